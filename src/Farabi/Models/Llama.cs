// LLaMA (Touvron et al. 2023): a decoder-only transformer with RMSNorm before each block, rotary position
// embeddings (Su et al. 2021), a SwiGLU feed-forward network (Shazeer 2020), grouped-query attention
// (Ainslie et al. 2023) and, by default, an untied output head. Module and parameter names follow
// Hugging Face's LlamaForCausalLM, so HF checkpoints load unchanged.
using Farabi.Generation;
using Farabi.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Models;

/// <summary>LLaMA with its language-model head (HF <c>LlamaForCausalLM</c>).</summary>
public sealed class LlamaForCausalLM : CausalLanguageModel
{
    /// <summary>The body (HF <c>model</c>): embedding, decoder layers, final norm.</summary>
    public readonly LlamaModel model;

    /// <summary>The output head <c>[vocab_size, hidden_size]</c>; null when tied to <c>model.embed_tokens</c>.</summary>
    public readonly Linear? lm_head;

    readonly LlamaConfig config;

    /// <summary>Builds the model with HF's initialisation, seeded by <paramref name="seed"/>.</summary>
    public LlamaForCausalLM(LlamaConfig config, long seed = 1337) : base(nameof(LlamaForCausalLM))
    {
        this.config = config.Validate();
        model = new LlamaModel(config);
        if (!config.TieWordEmbeddings) lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
        Initialise(seed);
    }

    /// <inheritdoc/>
    public override CausalLanguageModelConfig Config => config;

    /// <summary>The LLaMA configuration.</summary>
    public LlamaConfig LlamaConfig => config;

    void Initialise(long seed)
    {
        // N(0, initializer_range) for every matrix and embedding, unit RMSNorm gains (HF). Like GPT-2 and
        // llama2.c's model.py, the two projections that write into the residual stream (o_proj, down_proj)
        // are scaled by 1/sqrt(2 * layers) so its variance does not grow with depth.
        using var generator = new Generator((ulong)seed, CPU);
        var std = config.InitializerRange;
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("layernorm.weight") || name == "model.norm.weight") continue;
            var residual = name.EndsWith("o_proj.weight") || name.EndsWith("down_proj.weight");
            p.normal_(0, residual ? std / Math.Sqrt(2.0 * config.NumHiddenLayers) : std, generator); // nn.init.normal_ ignores the generator in TorchSharp 0.107
        }
    }

    /// <inheritdoc/>
    public override Tensor Hidden(Tensor ids, KeyValueCache? cache = null) => model.Forward(ids, cache);

    /// <inheritdoc/>
    public override Tensor Head(Tensor hidden) =>
        lm_head is null ? F.linear(hidden, model.embed_tokens.weight!) : lm_head.call(hidden);

    /// <inheritdoc/>
    protected override string? MapCheckpointKey(string key)
    {
        // Older HF files store the rotary inverse frequencies, which are recomputed here.
        if (key.EndsWith("rotary_emb.inv_freq")) return null;
        if (key == "lm_head.weight" && lm_head is null) return null;
        return key;
    }
}

/// <summary>The LLaMA body (HF <c>LlamaModel</c>).</summary>
public sealed class LlamaModel : nn.Module
{
    /// <summary>Token embedding <c>[vocab_size, hidden_size]</c>.</summary>
    public readonly Embedding embed_tokens;
    /// <summary>The decoder layers.</summary>
    public readonly ModuleList<LlamaDecoderLayer> layers;
    /// <summary>The final RMSNorm.</summary>
    public readonly RmsNorm norm;

    readonly LlamaConfig config;

    /// <summary>Builds the body of <paramref name="config"/>.</summary>
    public LlamaModel(LlamaConfig config) : base(nameof(LlamaModel))
    {
        this.config = config;
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize);
        layers = new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(i => new LlamaDecoderLayer(config, i)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        RegisterComponents();
    }

    /// <summary>Hidden states after the final norm; see <see cref="CausalLanguageModel.Hidden"/>.</summary>
    public Tensor Forward(Tensor ids, KeyValueCache? cache)
    {
        using var scope = NewDisposeScope();
        var t = ids.shape[^1];
        var past = cache?.Length ?? 0;
        if (past + t > config.MaxPositionEmbeddings)
            throw new ArgumentException($"This LLaMA sees at most max_position_embeddings = {config.MaxPositionEmbeddings} tokens; got {past + t}.");
        var (cos, sin) = RotaryEmbedding.Table(past, t, config.HeadDim, config.RopeTheta, ids.device);
        var x = embed_tokens.call(ids);
        foreach (var layer in layers) x = layer.Forward(x, cos, sin, cache, past);
        cache?.Advance((int)t);
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>One LLaMA layer: <c>x + self_attn(input_layernorm(x))</c>, then <c>x + mlp(post_attention_layernorm(x))</c>.</summary>
public sealed class LlamaDecoderLayer : nn.Module
{
    /// <summary>Norm before attention.</summary>
    public readonly RmsNorm input_layernorm;
    /// <summary>Grouped-query self-attention with rotary positions.</summary>
    public readonly LlamaAttention self_attn;
    /// <summary>Norm before the MLP.</summary>
    public readonly RmsNorm post_attention_layernorm;
    /// <summary>The SwiGLU feed-forward network.</summary>
    public readonly LlamaMlp mlp;

    /// <summary>Builds layer number <paramref name="layer"/>.</summary>
    public LlamaDecoderLayer(LlamaConfig config, int layer) : base(nameof(LlamaDecoderLayer))
    {
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        self_attn = new LlamaAttention(config, layer);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        mlp = new LlamaMlp(config);
        RegisterComponents();
    }

    /// <summary>Applies the layer to <c>[B, T, C]</c>; <paramref name="cos"/>/<paramref name="sin"/> are the rotary tables of these positions.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, KeyValueCache? cache, long past)
    {
        using var scope = NewDisposeScope();
        x = x + self_attn.Forward(input_layernorm.forward(x), cos, sin, cache, past);
        x = x + mlp.forward(post_attention_layernorm.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>LLaMA attention: separate q/k/v/o projections without bias, RoPE on q and k, grouped key/value heads.</summary>
public sealed class LlamaAttention : nn.Module
{
    /// <summary>Query projection <c>[heads * head_dim, hidden]</c>.</summary>
    public readonly Linear q_proj;
    /// <summary>Key projection <c>[kv_heads * head_dim, hidden]</c>.</summary>
    public readonly Linear k_proj;
    /// <summary>Value projection <c>[kv_heads * head_dim, hidden]</c>.</summary>
    public readonly Linear v_proj;
    /// <summary>Output projection <c>[hidden, heads * head_dim]</c>.</summary>
    public readonly Linear o_proj;

    readonly int heads, kvHeads, headDim, layer;
    readonly double dropout;

    /// <summary>Builds the attention of layer <paramref name="layer"/>.</summary>
    public LlamaAttention(LlamaConfig config, int layer) : base(nameof(LlamaAttention))
    {
        (heads, kvHeads, headDim, this.layer, dropout) = (config.NumAttentionHeads, config.KeyValueHeads, config.HeadDim, layer, config.AttentionDropout);
        q_proj = nn.Linear(config.HiddenSize, heads * headDim, hasBias: false);
        k_proj = nn.Linear(config.HiddenSize, kvHeads * headDim, hasBias: false);
        v_proj = nn.Linear(config.HiddenSize, kvHeads * headDim, hasBias: false);
        o_proj = nn.Linear(heads * headDim, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    /// <summary>Attends <c>[B, T, C]</c> causally, through the cache when one is given.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, KeyValueCache? cache, long past)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (x.shape[0], x.shape[1]);
        var q = q_proj.call(x).view(b, t, heads, headDim).transpose(1, 2);
        var k = k_proj.call(x).view(b, t, kvHeads, headDim).transpose(1, 2);
        var v = v_proj.call(x).view(b, t, kvHeads, headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache != null) (k, v) = cache.Append(layer, k, v);
        var y = CausalAttention.Attend(q, k, v, past, training ? dropout : 0);
        return o_proj.call(y).MoveToOuterDisposeScope();
    }
}

/// <summary>LLaMA's SwiGLU MLP: <c>down_proj(silu(gate_proj(x)) * up_proj(x))</c>.</summary>
public sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    /// <summary>Gate projection <c>[intermediate, hidden]</c>.</summary>
    public readonly Linear gate_proj;
    /// <summary>Up projection <c>[intermediate, hidden]</c>.</summary>
    public readonly Linear up_proj;
    /// <summary>Down projection <c>[hidden, intermediate]</c>.</summary>
    public readonly Linear down_proj;

    /// <summary>Builds the MLP of <paramref name="config"/>.</summary>
    public LlamaMlp(LlamaConfig config) : base(nameof(LlamaMlp))
    {
        gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.call(F.silu(gate_proj.call(x)) * up_proj.call(x)).MoveToOuterDisposeScope();
    }
}

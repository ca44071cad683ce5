// GPT-2 (Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"): a decoder-only
// transformer with learned positions, pre-LayerNorm blocks, GELU (tanh approximation) and an output head
// tied to the token embedding. Module and parameter names follow Hugging Face's GPT2LMHeadModel exactly,
// Conv1D weights included, so HF checkpoints load unchanged; the code follows nanoGPT's model.py.
using Farabi.Generation;
using Farabi.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Models;

/// <summary>GPT-2 with its language-model head (HF <c>GPT2LMHeadModel</c>).</summary>
public sealed class Gpt2LMHeadModel : CausalLanguageModel
{
    /// <summary>The body (HF <c>transformer</c>): embeddings, blocks, final norm.</summary>
    public readonly Gpt2Model transformer;

    /// <summary>The untied head; null when tied to <c>transformer.wte</c> (the GPT-2 default).</summary>
    public readonly Linear? lm_head;

    readonly Gpt2Config config;

    /// <summary>Builds the model with nanoGPT/HF initialisation, seeded by <paramref name="seed"/>.</summary>
    public Gpt2LMHeadModel(Gpt2Config config, long seed = 1337) : base(nameof(Gpt2LMHeadModel))
    {
        this.config = config.Validate();
        transformer = new Gpt2Model(config);
        if (!config.TieWordEmbeddings) lm_head = nn.Linear(config.NEmbd, config.VocabSize, hasBias: false);
        RegisterComponents();
        Initialise(seed);
    }

    /// <inheritdoc/>
    public override CausalLanguageModelConfig Config => config;

    /// <summary>The GPT-2 configuration.</summary>
    public Gpt2Config Gpt2Config => config;

    void Initialise(long seed)
    {
        // GPT-2's scheme (as in HF's _init_weights and nanoGPT): N(0, 0.02) for weights and embeddings, zero
        // biases, unit LayerNorm gains, and the residual projections scaled by 1/sqrt(2 * n_layer) because each
        // block adds two of them to the residual stream, whose variance would otherwise grow with depth.
        using var generator = new Generator((ulong)seed, CPU);
        var std = config.InitializerRange;
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.Contains(".ln_") || name.EndsWith(".bias")) continue;
            var s = name.EndsWith("c_proj.weight") ? std / Math.Sqrt(2.0 * config.NLayer) : std;
            p.normal_(0, s, generator); // not nn.init.normal_: TorchSharp 0.107 ignores its generator
        }
    }

    /// <inheritdoc/>
    protected override long PositionEmbeddingCount => transformer.wpe.weight!.numel();

    /// <inheritdoc/>
    public override Tensor Hidden(Tensor ids, KeyValueCache? cache = null) => transformer.Forward(ids, cache);

    /// <inheritdoc/>
    public override Tensor Head(Tensor hidden) =>
        lm_head is null ? F.linear(hidden, transformer.wte.weight!) : lm_head.forward(hidden);

    /// <inheritdoc/>
    protected override string? MapCheckpointKey(string key)
    {
        // Old HF files keep the causal-mask buffers, which are not weights.
        if (key.EndsWith(".attn.bias") || key.EndsWith(".attn.masked_bias")) return null;
        if (key == "lm_head.weight") return lm_head is null ? null : key;
        // OpenAI's checkpoints on the Hub were saved from GPT2Model, without the "transformer." prefix.
        return key.StartsWith("transformer.") ? key : "transformer." + key;
    }
}

/// <summary>The GPT-2 body (HF <c>GPT2Model</c>): token and position embeddings, blocks, final LayerNorm.</summary>
public sealed class Gpt2Model : nn.Module
{
    /// <summary>Token embedding <c>[vocab_size, n_embd]</c>.</summary>
    public readonly Embedding wte;
    /// <summary>Learned position embedding <c>[n_positions, n_embd]</c>.</summary>
    public readonly Embedding wpe;
    /// <summary>Dropout on the summed embeddings.</summary>
    public readonly Dropout drop;
    /// <summary>The transformer blocks.</summary>
    public readonly ModuleList<Gpt2Block> h;
    /// <summary>The final LayerNorm.</summary>
    public readonly LayerNorm ln_f;

    readonly Gpt2Config config;

    /// <summary>Builds the body of <paramref name="config"/>.</summary>
    public Gpt2Model(Gpt2Config config) : base(nameof(Gpt2Model))
    {
        this.config = config;
        wte = nn.Embedding(config.VocabSize, config.NEmbd);
        wpe = nn.Embedding(config.NPositions, config.NEmbd);
        drop = nn.Dropout(config.EmbdPdrop);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, config.NLayer).Select(i => new Gpt2Block(config, i)).ToArray());
        ln_f = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        RegisterComponents();
    }

    /// <summary>Hidden states after <c>ln_f</c>; see <see cref="CausalLanguageModel.Hidden"/>.</summary>
    public Tensor Forward(Tensor ids, KeyValueCache? cache)
    {
        using var scope = NewDisposeScope();
        var t = ids.shape[^1];
        var past = cache?.Length ?? 0;
        if (past + t > config.NPositions)
            throw new ArgumentException($"GPT-2 sees at most n_positions = {config.NPositions} tokens; got {past + t}.");
        var positions = arange(past, past + t, dtype: ScalarType.Int64, device: ids.device);
        var x = drop.forward(wte.forward(ids) + wpe.forward(positions));
        foreach (var block in h) x = block.Forward(x, cache, past);
        cache?.Advance((int)t);
        return ln_f.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>One pre-LayerNorm GPT-2 block: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.</summary>
public sealed class Gpt2Block : nn.Module
{
    /// <summary>Norm before attention.</summary>
    public readonly LayerNorm ln_1;
    /// <summary>Causal self-attention.</summary>
    public readonly Gpt2Attention attn;
    /// <summary>Norm before the MLP.</summary>
    public readonly LayerNorm ln_2;
    /// <summary>The feed-forward network.</summary>
    public readonly Gpt2Mlp mlp;

    /// <summary>Builds block number <paramref name="layer"/> (its index in the key-value cache).</summary>
    public Gpt2Block(Gpt2Config config, int layer) : base(nameof(Gpt2Block))
    {
        ln_1 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        attn = new Gpt2Attention(config, layer);
        ln_2 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        mlp = new Gpt2Mlp(config);
        RegisterComponents();
    }

    /// <summary>Applies the block to <c>[B, T, C]</c> at positions <c>past ..</c>.</summary>
    public Tensor Forward(Tensor x, KeyValueCache? cache, long past)
    {
        using var scope = NewDisposeScope();
        x = x + attn.Forward(ln_1.forward(x), cache, past);
        x = x + mlp.forward(ln_2.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>GPT-2 multi-head causal self-attention with a fused q/k/v projection (<c>c_attn</c>).</summary>
public sealed class Gpt2Attention : nn.Module
{
    /// <summary>q, k, v projection, <c>[n_embd, 3 n_embd]</c> (Conv1D layout).</summary>
    public readonly Conv1D c_attn;
    /// <summary>Output projection, <c>[n_embd, n_embd]</c>.</summary>
    public readonly Conv1D c_proj;
    /// <summary>Dropout on the output.</summary>
    public readonly Dropout resid_dropout;

    readonly int heads;
    readonly int layer;
    readonly double attnDropout;

    /// <summary>Builds the attention of block <paramref name="layer"/>.</summary>
    public Gpt2Attention(Gpt2Config config, int layer) : base(nameof(Gpt2Attention))
    {
        heads = config.NHead;
        this.layer = layer;
        attnDropout = config.AttnPdrop;
        c_attn = new Conv1D(config.NEmbd, 3 * config.NEmbd);
        c_proj = new Conv1D(config.NEmbd, config.NEmbd);
        resid_dropout = nn.Dropout(config.ResidPdrop);
        RegisterComponents();
    }

    /// <summary>Attends <c>[B, T, C]</c> causally, through the cache when one is given.</summary>
    public Tensor Forward(Tensor x, KeyValueCache? cache, long past)
    {
        using var scope = NewDisposeScope();
        var (b, t, c) = (x.shape[0], x.shape[1], x.shape[2]);
        var qkv = c_attn.forward(x).split(c, -1);
        Tensor Heads(Tensor z) => z.view(b, t, heads, c / heads).transpose(1, 2);
        var (q, k, v) = (Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]));
        if (cache != null) (k, v) = cache.Append(layer, k, v);
        var y = CausalAttention.Attend(q, k, v, past, training ? attnDropout : 0);
        return resid_dropout.forward(c_proj.forward(y)).MoveToOuterDisposeScope();
    }
}

/// <summary>GPT-2's MLP: <c>c_proj(gelu(c_fc(x)))</c>, 4x wide by default.</summary>
public sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
    /// <summary>Up projection, <c>[n_embd, n_inner]</c>.</summary>
    public readonly Conv1D c_fc;
    /// <summary>Down projection, <c>[n_inner, n_embd]</c>.</summary>
    public readonly Conv1D c_proj;
    /// <summary>Dropout on the output.</summary>
    public readonly Dropout dropout;

    readonly string activation;

    /// <summary>Builds the MLP of <paramref name="config"/>.</summary>
    public Gpt2Mlp(Gpt2Config config) : base(nameof(Gpt2Mlp))
    {
        activation = config.ActivationFunction;
        c_fc = new Conv1D(config.NEmbd, config.InnerSize);
        c_proj = new Conv1D(config.InnerSize, config.NEmbd);
        dropout = nn.Dropout(config.ResidPdrop);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = c_fc.forward(x);
        a = activation switch
        {
            "relu" => F.relu(a),
            "gelu" => F.gelu(a),
            _ => F.gelu(a, approximate: GELU.Approximate.tanh), // gelu_new = gelu_pytorch_tanh: GPT-2's tanh approximation
        };
        return dropout.forward(c_proj.forward(a)).MoveToOuterDisposeScope();
    }
}

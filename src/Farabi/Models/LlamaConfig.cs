using System.Text.Json.Nodes;

namespace Farabi.Models;

/// <summary>
/// LLaMA's hyper-parameters with Hugging Face's field names and defaults (LLaMA-7B sizes).
/// </summary>
public sealed record LlamaConfig : CausalLanguageModelConfig
{
    /// <summary>HF <c>vocab_size</c>.</summary>
    public override int VocabSize { get; init; } = 32000;
    /// <summary>HF <c>hidden_size</c>: the model width.</summary>
    public int HiddenSize { get; init; } = 4096;
    /// <summary>HF <c>intermediate_size</c>: the SwiGLU width.</summary>
    public int IntermediateSize { get; init; } = 11008;
    /// <summary>HF <c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; } = 32;
    /// <summary>HF <c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; init; } = 32;
    /// <summary>HF <c>num_key_value_heads</c>: fewer than the query heads means grouped-query attention; null means equal.</summary>
    public int? NumKeyValueHeads { get; init; }
    /// <summary>HF <c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary>HF <c>rope_theta</c>: the RoPE base.</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>HF <c>max_position_embeddings</c>: the context length.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;
    /// <summary>HF <c>initializer_range</c>.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>HF <c>attention_dropout</c> (on attention probabilities, training only).</summary>
    public double AttentionDropout { get; init; }
    /// <summary>HF <c>tie_word_embeddings</c>: LLaMA's head is untied by default.</summary>
    public override bool TieWordEmbeddings { get; init; }
    /// <summary>HF <c>bos_token_id</c>.</summary>
    public override int? BosTokenId { get; init; } = 1;
    /// <summary>HF <c>eos_token_id</c>.</summary>
    public override int? EosTokenId { get; init; } = 2;

    /// <inheritdoc/>
    public override string ModelType => "llama";
    /// <inheritdoc/>
    public override int ContextLength => MaxPositionEmbeddings;
    /// <inheritdoc/>
    public override int NumLayers => NumHiddenLayers;
    /// <inheritdoc/>
    public override int HiddenWidth => HiddenSize;

    /// <summary>The key/value head count actually used.</summary>
    public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;

    /// <summary>The width of one head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Throws <see cref="ArgumentException"/> when the sizes cannot form a model.</summary>
    public LlamaConfig Validate()
    {
        if (VocabSize <= 0 || HiddenSize <= 0 || IntermediateSize <= 0 || NumHiddenLayers <= 0 || NumAttentionHeads <= 0 || MaxPositionEmbeddings <= 0)
            throw new ArgumentException("LLaMA config: vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads and max_position_embeddings must be positive.");
        if (HiddenSize % NumAttentionHeads != 0)
            throw new ArgumentException($"LLaMA config: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}.");
        if (HeadDim % 2 != 0) throw new ArgumentException($"LLaMA config: the head size {HeadDim} must be even for rotary embeddings.");
        if (KeyValueHeads <= 0 || NumAttentionHeads % KeyValueHeads != 0)
            throw new ArgumentException($"LLaMA config: num_attention_heads {NumAttentionHeads} is not a multiple of num_key_value_heads {KeyValueHeads}.");
        return this;
    }

    /// <inheritdoc/>
    public override JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = ModelType,
        ["vocab_size"] = VocabSize,
        ["hidden_size"] = HiddenSize,
        ["intermediate_size"] = IntermediateSize,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["num_attention_heads"] = NumAttentionHeads,
        ["num_key_value_heads"] = KeyValueHeads,
        ["head_dim"] = HeadDim,
        ["hidden_act"] = "silu",
        ["rms_norm_eps"] = RmsNormEps,
        ["rope_theta"] = RopeTheta,
        ["rope_scaling"] = null,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["initializer_range"] = InitializerRange,
        ["attention_bias"] = false,
        ["attention_dropout"] = AttentionDropout,
        ["mlp_bias"] = false,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["bos_token_id"] = BosTokenId,
        ["eos_token_id"] = EosTokenId,
        ["torch_dtype"] = "float32",
    };

    /// <summary>Parses an HF LLaMA <c>config.json</c> object; absent fields take HF's defaults.</summary>
    /// <exception cref="NotSupportedException">Features this implementation lacks (rope scaling, biases, other activations).</exception>
    public static LlamaConfig FromJson(JsonObject json, string source = "config.json")
    {
        var d = new LlamaConfig();
        if (json.TryGetPropertyValue("rope_scaling", out var scaling) && scaling != null)
            throw new NotSupportedException($"Model config '{source}': rope_scaling is not supported.");
        if (ConfigJson.Get(json, "attention_bias", source, false) || ConfigJson.Get(json, "mlp_bias", source, false))
            throw new NotSupportedException($"Model config '{source}': attention_bias and mlp_bias are not supported.");
        var act = ConfigJson.Get(json, "hidden_act", source, "silu");
        if (act != "silu") throw new NotSupportedException($"Model config '{source}': hidden_act '{act}' is not supported (silu).");
        var config = new LlamaConfig
        {
            VocabSize = ConfigJson.GetInt(json, "vocab_size", source, d.VocabSize),
            HiddenSize = ConfigJson.GetInt(json, "hidden_size", source, d.HiddenSize),
            IntermediateSize = ConfigJson.GetInt(json, "intermediate_size", source, d.IntermediateSize),
            NumHiddenLayers = ConfigJson.GetInt(json, "num_hidden_layers", source, d.NumHiddenLayers),
            NumAttentionHeads = ConfigJson.GetInt(json, "num_attention_heads", source, d.NumAttentionHeads),
            NumKeyValueHeads = ConfigJson.GetOptionalInt(json, "num_key_value_heads", source),
            RmsNormEps = ConfigJson.Get(json, "rms_norm_eps", source, d.RmsNormEps),
            RopeTheta = ConfigJson.Get(json, "rope_theta", source, d.RopeTheta),
            MaxPositionEmbeddings = ConfigJson.GetInt(json, "max_position_embeddings", source, d.MaxPositionEmbeddings),
            InitializerRange = ConfigJson.Get(json, "initializer_range", source, d.InitializerRange),
            AttentionDropout = ConfigJson.Get(json, "attention_dropout", source, d.AttentionDropout),
            TieWordEmbeddings = ConfigJson.Get(json, "tie_word_embeddings", source, d.TieWordEmbeddings),
            BosTokenId = ConfigJson.GetOptionalInt(json, "bos_token_id", source),
            EosTokenId = ConfigJson.GetOptionalInt(json, "eos_token_id", source),
        }.Validate();
        var headDim = ConfigJson.GetOptionalInt(json, "head_dim", source);
        if (headDim != null && headDim != config.HeadDim)
            throw new NotSupportedException($"Model config '{source}': head_dim {headDim} differs from hidden_size / num_attention_heads = {config.HeadDim}.");
        return config;
    }

    /// <inheritdoc/>
    public override CausalLanguageModel CreateModel(long seed = 1337) => new LlamaForCausalLM(this, seed);
}

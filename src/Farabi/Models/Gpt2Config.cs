using System.Text.Json.Nodes;

namespace Farabi.Models;

/// <summary>
/// GPT-2's hyper-parameters with Hugging Face's field names and defaults (GPT-2 small: 124M parameters).
/// </summary>
public sealed record Gpt2Config : CausalLanguageModelConfig
{
    /// <summary>GPT-2 small, 124M parameters (HF <c>gpt2</c>; the defaults).</summary>
    public static Gpt2Config Small => new();
    /// <summary>GPT-2 medium, 350M parameters (HF <c>gpt2-medium</c>).</summary>
    public static Gpt2Config Medium => new() { NLayer = 24, NHead = 16, NEmbd = 1024 };
    /// <summary>GPT-2 large, 774M parameters (HF <c>gpt2-large</c>).</summary>
    public static Gpt2Config Large => new() { NLayer = 36, NHead = 20, NEmbd = 1280 };
    /// <summary>GPT-2 XL, 1558M parameters (HF <c>gpt2-xl</c>).</summary>
    public static Gpt2Config XL => new() { NLayer = 48, NHead = 25, NEmbd = 1600 };

    /// <summary>HF <c>vocab_size</c>.</summary>
    public override int VocabSize { get; init; } = 50257;
    /// <summary>HF <c>n_positions</c>: the number of learned positions.</summary>
    public int NPositions { get; init; } = 1024;
    /// <summary>HF <c>n_embd</c>: the model width.</summary>
    public int NEmbd { get; init; } = 768;
    /// <summary>HF <c>n_layer</c>.</summary>
    public int NLayer { get; init; } = 12;
    /// <summary>HF <c>n_head</c>.</summary>
    public int NHead { get; init; } = 12;
    /// <summary>HF <c>n_inner</c>: the MLP width; null means 4 × <see cref="NEmbd"/>.</summary>
    public int? NInner { get; init; }
    /// <summary>HF <c>layer_norm_epsilon</c>.</summary>
    public double LayerNormEpsilon { get; init; } = 1e-5;
    /// <summary>HF <c>activation_function</c>: <c>gelu_new</c> (tanh approximation, GPT-2's), <c>gelu_pytorch_tanh</c>, <c>gelu</c> or <c>relu</c>.</summary>
    public string ActivationFunction { get; init; } = "gelu_new";
    /// <summary>HF <c>resid_pdrop</c>: dropout after each residual branch.</summary>
    public double ResidPdrop { get; init; } = 0.1;
    /// <summary>HF <c>embd_pdrop</c>: dropout on the summed embeddings.</summary>
    public double EmbdPdrop { get; init; } = 0.1;
    /// <summary>HF <c>attn_pdrop</c>: dropout on the attention probabilities.</summary>
    public double AttnPdrop { get; init; } = 0.1;
    /// <summary>HF <c>initializer_range</c>: the std of the normal initialisation.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>HF <c>tie_word_embeddings</c>: the head reuses <c>wte</c> (GPT-2 always does).</summary>
    public override bool TieWordEmbeddings { get; init; } = true;
    /// <summary>HF <c>bos_token_id</c>.</summary>
    public override int? BosTokenId { get; init; } = 50256;
    /// <summary>HF <c>eos_token_id</c>.</summary>
    public override int? EosTokenId { get; init; } = 50256;

    /// <inheritdoc/>
    public override string ModelType => "gpt2";
    /// <inheritdoc/>
    public override int ContextLength => NPositions;
    /// <inheritdoc/>
    public override int NumLayers => NLayer;
    /// <inheritdoc/>
    public override int HiddenWidth => NEmbd;

    /// <summary>The MLP width actually used.</summary>
    public int InnerSize => NInner ?? 4 * NEmbd;

    /// <summary>Throws <see cref="ArgumentException"/> when the sizes cannot form a model.</summary>
    public Gpt2Config Validate()
    {
        if (VocabSize <= 0 || NPositions <= 0 || NEmbd <= 0 || NLayer <= 0 || NHead <= 0)
            throw new ArgumentException("GPT-2 config: vocab_size, n_positions, n_embd, n_layer and n_head must be positive.");
        if (NEmbd % NHead != 0) throw new ArgumentException($"GPT-2 config: n_embd {NEmbd} is not divisible by n_head {NHead}.");
        if (ActivationFunction is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu" or "relu"))
            throw new NotSupportedException($"GPT-2 config: activation_function '{ActivationFunction}' is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu).");
        return this;
    }

    /// <inheritdoc/>
    public override JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray("GPT2LMHeadModel"),
        ["model_type"] = ModelType,
        ["vocab_size"] = VocabSize,
        ["n_positions"] = NPositions,
        ["n_ctx"] = NPositions,
        ["n_embd"] = NEmbd,
        ["n_layer"] = NLayer,
        ["n_head"] = NHead,
        ["n_inner"] = NInner,
        ["layer_norm_epsilon"] = LayerNormEpsilon,
        ["activation_function"] = ActivationFunction,
        ["resid_pdrop"] = ResidPdrop,
        ["embd_pdrop"] = EmbdPdrop,
        ["attn_pdrop"] = AttnPdrop,
        ["initializer_range"] = InitializerRange,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["bos_token_id"] = BosTokenId,
        ["eos_token_id"] = EosTokenId,
        ["torch_dtype"] = "float32",
    };

    /// <summary>Parses an HF GPT-2 <c>config.json</c> object; absent fields take HF's defaults.</summary>
    public static Gpt2Config FromJson(JsonObject json, string source = "config.json")
    {
        var d = new Gpt2Config();
        return new Gpt2Config
        {
            VocabSize = ConfigJson.GetInt(json, "vocab_size", source, d.VocabSize),
            NPositions = ConfigJson.GetInt(json, "n_positions", source, d.NPositions),
            NEmbd = ConfigJson.GetInt(json, "n_embd", source, d.NEmbd),
            NLayer = ConfigJson.GetInt(json, "n_layer", source, d.NLayer),
            NHead = ConfigJson.GetInt(json, "n_head", source, d.NHead),
            NInner = ConfigJson.GetOptionalInt(json, "n_inner", source),
            LayerNormEpsilon = ConfigJson.Get(json, "layer_norm_epsilon", source, d.LayerNormEpsilon),
            ActivationFunction = ConfigJson.Get(json, "activation_function", source, d.ActivationFunction),
            ResidPdrop = ConfigJson.Get(json, "resid_pdrop", source, d.ResidPdrop),
            EmbdPdrop = ConfigJson.Get(json, "embd_pdrop", source, d.EmbdPdrop),
            AttnPdrop = ConfigJson.Get(json, "attn_pdrop", source, d.AttnPdrop),
            InitializerRange = ConfigJson.Get(json, "initializer_range", source, d.InitializerRange),
            TieWordEmbeddings = ConfigJson.Get(json, "tie_word_embeddings", source, d.TieWordEmbeddings),
            BosTokenId = ConfigJson.GetOptionalInt(json, "bos_token_id", source),
            EosTokenId = ConfigJson.GetOptionalInt(json, "eos_token_id", source),
        }.Validate();
    }

    /// <inheritdoc/>
    public override CausalLanguageModel CreateModel(long seed = 1337) => new Gpt2LMHeadModel(this, seed);
}

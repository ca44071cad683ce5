using System.Text.Json.Nodes;

namespace Farabi.Models.Clip;

/// <summary>
/// The text tower of a CLIP model, with the field names of Hugging Face's <c>CLIPTextConfig</c>. Defaults are
/// HF's (those of <c>openai/clip-vit-base-patch32</c>); note HF's legacy <c>eos_token_id = 2</c>, which means
/// "pool at the largest id" (the OpenAI vocabulary puts end-of-text last).
/// </summary>
public sealed record ClipTextConfig
{
    /// <summary>vocab_size.</summary>
    public int VocabSize { get; init; } = 49408;
    /// <summary>hidden_size (the residual width).</summary>
    public int HiddenSize { get; init; } = 512;
    /// <summary>intermediate_size (MLP width).</summary>
    public int IntermediateSize { get; init; } = 2048;
    /// <summary>num_hidden_layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary>num_attention_heads.</summary>
    public int NumAttentionHeads { get; init; } = 8;
    /// <summary>max_position_embeddings (the context length, 77 for OpenAI's models).</summary>
    public int MaxPositionEmbeddings { get; init; } = 77;
    /// <summary>hidden_act: quick_gelu (OpenAI), gelu or relu.</summary>
    public string HiddenAct { get; init; } = "quick_gelu";
    /// <summary>layer_norm_eps.</summary>
    public double LayerNormEps { get; init; } = 1e-5;
    /// <summary>eos_token_id; 2 selects HF's legacy pooling at the argmax of the ids.</summary>
    public int EosTokenId { get; init; } = 2;
    /// <summary>bos_token_id.</summary>
    public int BosTokenId { get; init; } = 1;
    /// <summary>pad_token_id.</summary>
    public int PadTokenId { get; init; } = 1;
}

/// <summary>The image tower of a CLIP model, with the field names of HF's <c>CLIPVisionConfig</c> (defaults: ViT-B/32).</summary>
public sealed record ClipVisionConfig
{
    /// <summary>hidden_size.</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary>intermediate_size.</summary>
    public int IntermediateSize { get; init; } = 3072;
    /// <summary>num_hidden_layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary>num_attention_heads.</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary>image_size (square side in pixels).</summary>
    public int ImageSize { get; init; } = 224;
    /// <summary>patch_size.</summary>
    public int PatchSize { get; init; } = 32;
    /// <summary>num_channels.</summary>
    public int NumChannels { get; init; } = 3;
    /// <summary>hidden_act.</summary>
    public string HiddenAct { get; init; } = "quick_gelu";
    /// <summary>layer_norm_eps.</summary>
    public double LayerNormEps { get; init; } = 1e-5;
    /// <summary>
    /// Farabi's own field <c>farabi_tower</c>: "vit" (HF's architecture) or "cnn", a small convolutional tower for
    /// tiny images (not loadable by HF; its keys live under <c>vision_model.cnn.*</c>).
    /// </summary>
    public string Tower { get; init; } = "vit";

    /// <summary>Patches per image side.</summary>
    public int PatchesPerSide => ImageSize / PatchSize;
}

/// <summary>A CLIP model (HF <c>CLIPConfig</c>): two towers, the shared embedding width and the initial temperature.</summary>
public sealed record ClipConfig
{
    /// <summary>text_config.</summary>
    public ClipTextConfig Text { get; init; } = new();
    /// <summary>vision_config.</summary>
    public ClipVisionConfig Vision { get; init; } = new();
    /// <summary>projection_dim: width of the shared embedding space.</summary>
    public int ProjectionDim { get; init; } = 512;
    /// <summary>logit_scale_init_value: ln(1/0.07), CLIP's initial temperature.</summary>
    public double LogitScaleInitValue { get; init; } = 2.6592;
    /// <summary>initializer_factor.</summary>
    public double InitializerFactor { get; init; } = 1.0;

    /// <summary>Checks the shapes fit together; returns this.</summary>
    public ClipConfig Validate()
    {
        void Check(bool ok, string message) { if (!ok) throw new ArgumentException($"CLIP config: {message}"); }
        Check(Text.HiddenSize % Text.NumAttentionHeads == 0, $"text_config.hidden_size {Text.HiddenSize} is not divisible by num_attention_heads {Text.NumAttentionHeads}.");
        Check(Vision.HiddenSize % Vision.NumAttentionHeads == 0, $"vision_config.hidden_size {Vision.HiddenSize} is not divisible by num_attention_heads {Vision.NumAttentionHeads}.");
        Check(Vision.ImageSize % Vision.PatchSize == 0, $"vision_config.image_size {Vision.ImageSize} is not a multiple of patch_size {Vision.PatchSize}.");
        Check(Text.VocabSize > 0 && Text.MaxPositionEmbeddings > 0 && ProjectionDim > 0, "vocab_size, max_position_embeddings and projection_dim must be positive.");
        Check(Vision.Tower is "vit" or "cnn", $"vision_config.farabi_tower must be vit or cnn, not '{Vision.Tower}'.");
        foreach (var act in new[] { Text.HiddenAct, Vision.HiddenAct })
            Check(act is "quick_gelu" or "gelu" or "relu", $"hidden_act '{act}' is not supported (quick_gelu, gelu, relu).");
        return this;
    }

    /// <summary>The HF <c>config.json</c> of this configuration.</summary>
    public JsonObject ToJson()
    {
        var vision = new JsonObject
        {
            ["hidden_size"] = Vision.HiddenSize, ["intermediate_size"] = Vision.IntermediateSize,
            ["num_hidden_layers"] = Vision.NumHiddenLayers, ["num_attention_heads"] = Vision.NumAttentionHeads,
            ["image_size"] = Vision.ImageSize, ["patch_size"] = Vision.PatchSize, ["num_channels"] = Vision.NumChannels,
            ["hidden_act"] = Vision.HiddenAct, ["layer_norm_eps"] = Vision.LayerNormEps, ["model_type"] = "clip_vision_model",
        };
        if (Vision.Tower != "vit") vision["farabi_tower"] = Vision.Tower;
        return new JsonObject
        {
            ["architectures"] = new JsonArray("CLIPModel"),
            ["model_type"] = "clip",
            ["projection_dim"] = ProjectionDim,
            ["logit_scale_init_value"] = LogitScaleInitValue,
            ["initializer_factor"] = InitializerFactor,
            ["torch_dtype"] = "float32",
            ["text_config"] = new JsonObject
            {
                ["vocab_size"] = Text.VocabSize, ["hidden_size"] = Text.HiddenSize, ["intermediate_size"] = Text.IntermediateSize,
                ["num_hidden_layers"] = Text.NumHiddenLayers, ["num_attention_heads"] = Text.NumAttentionHeads,
                ["max_position_embeddings"] = Text.MaxPositionEmbeddings, ["hidden_act"] = Text.HiddenAct,
                ["layer_norm_eps"] = Text.LayerNormEps, ["eos_token_id"] = Text.EosTokenId, ["bos_token_id"] = Text.BosTokenId,
                ["pad_token_id"] = Text.PadTokenId, ["projection_dim"] = ProjectionDim, ["model_type"] = "clip_text_model",
            },
            ["vision_config"] = vision,
        };
    }

    /// <summary>
    /// Reads an HF <c>config.json</c>. Missing fields take HF's defaults; old files that only have
    /// <c>text_config_dict</c> / <c>vision_config_dict</c> are read too.
    /// </summary>
    /// <exception cref="InvalidDataException">The JSON is not a CLIP config.</exception>
    public static ClipConfig FromJson(JsonNode json, string source = "config.json")
    {
        if (json is not JsonObject root) throw new InvalidDataException($"'{source}' is not a JSON object.");
        var type = root["model_type"]?.GetValue<string>();
        if (type is not null && type != "clip") throw new InvalidDataException($"'{source}' has model_type '{type}', expected 'clip'.");
        var t = (root["text_config"] ?? root["text_config_dict"]) as JsonObject ?? new JsonObject();
        var v = (root["vision_config"] ?? root["vision_config_dict"]) as JsonObject ?? new JsonObject();
        T Get<T>(JsonObject o, string key, T fallback, string section)
        {
            var node = o[key];
            if (node is null) return fallback;
            try { return node.GetValue<T>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"'{source}': {section}{key} should be a {typeof(T).Name}, not {node.ToJsonString()}.");
            }
        }
        var dt = new ClipTextConfig();
        var dv = new ClipVisionConfig();
        var dc = new ClipConfig();
        var config = new ClipConfig
        {
            ProjectionDim = Get(root, "projection_dim", dc.ProjectionDim, ""),
            LogitScaleInitValue = Get(root, "logit_scale_init_value", dc.LogitScaleInitValue, ""),
            InitializerFactor = Get(root, "initializer_factor", dc.InitializerFactor, ""),
            Text = new ClipTextConfig
            {
                VocabSize = Get(t, "vocab_size", dt.VocabSize, "text_config."),
                HiddenSize = Get(t, "hidden_size", dt.HiddenSize, "text_config."),
                IntermediateSize = Get(t, "intermediate_size", dt.IntermediateSize, "text_config."),
                NumHiddenLayers = Get(t, "num_hidden_layers", dt.NumHiddenLayers, "text_config."),
                NumAttentionHeads = Get(t, "num_attention_heads", dt.NumAttentionHeads, "text_config."),
                MaxPositionEmbeddings = Get(t, "max_position_embeddings", dt.MaxPositionEmbeddings, "text_config."),
                HiddenAct = Get(t, "hidden_act", dt.HiddenAct, "text_config."),
                LayerNormEps = Get(t, "layer_norm_eps", dt.LayerNormEps, "text_config."),
                EosTokenId = Get(t, "eos_token_id", dt.EosTokenId, "text_config."),
                BosTokenId = Get(t, "bos_token_id", dt.BosTokenId, "text_config."),
                PadTokenId = Get(t, "pad_token_id", dt.PadTokenId, "text_config."),
            },
            Vision = new ClipVisionConfig
            {
                HiddenSize = Get(v, "hidden_size", dv.HiddenSize, "vision_config."),
                IntermediateSize = Get(v, "intermediate_size", dv.IntermediateSize, "vision_config."),
                NumHiddenLayers = Get(v, "num_hidden_layers", dv.NumHiddenLayers, "vision_config."),
                NumAttentionHeads = Get(v, "num_attention_heads", dv.NumAttentionHeads, "vision_config."),
                ImageSize = Get(v, "image_size", dv.ImageSize, "vision_config."),
                PatchSize = Get(v, "patch_size", dv.PatchSize, "vision_config."),
                NumChannels = Get(v, "num_channels", dv.NumChannels, "vision_config."),
                HiddenAct = Get(v, "hidden_act", dv.HiddenAct, "vision_config."),
                LayerNormEps = Get(v, "layer_norm_eps", dv.LayerNormEps, "vision_config."),
                Tower = Get(v, "farabi_tower", dv.Tower, "vision_config."),
            },
        };
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"'{source}': {e.Message}"); }
    }

    /// <summary>A tiny model for tests and CPU training: ViT with patch <paramref name="patchSize"/>, width <paramref name="width"/>.</summary>
    public static ClipConfig Tiny(int vocabSize, int contextLength, int imageSize = 32, int patchSize = 8, int width = 64, int layers = 2, int heads = 4, int projectionDim = 64, string tower = "vit", int eosTokenId = -1) => new()
    {
        ProjectionDim = projectionDim,
        Text = new ClipTextConfig
        {
            VocabSize = vocabSize, HiddenSize = width, IntermediateSize = 4 * width, NumHiddenLayers = layers,
            NumAttentionHeads = heads, MaxPositionEmbeddings = contextLength,
            EosTokenId = eosTokenId < 0 ? vocabSize - 1 : eosTokenId, BosTokenId = vocabSize - 2, PadTokenId = 0,
        },
        Vision = new ClipVisionConfig
        {
            HiddenSize = width, IntermediateSize = 4 * width, NumHiddenLayers = layers, NumAttentionHeads = heads,
            ImageSize = imageSize, PatchSize = patchSize, Tower = tower,
        },
    };
}

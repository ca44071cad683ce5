using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.IO;
using Farabi.Models.Clip;
using Farabi.Tokenizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Research.Clip;

/// <summary>Shape of a <see cref="LitModel"/>.</summary>
/// <param name="ImageFeatureDim">Width of the frozen image tower's features (ResNet18: 512).</param>
/// <param name="TextFeatureDim">Width of the frozen text tower's embeddings (all-MiniLM-L6-v2: 384).</param>
/// <param name="ProjectionDim">Width of the shared embedding space.</param>
/// <param name="HiddenDim">0 for linear projections (CLIP's); otherwise a one-hidden-layer GELU MLP of this width on each side.</param>
/// <param name="TextProjection">
/// False: the text tower's own embedding space is the shared space (no text projection, no text standardisation,
/// <paramref name="ProjectionDim"/> is the text width) and only the image side is mapped into it, as DeViSE (Frome et
/// al. 2013) mapped image features into a frozen word-embedding space. With few training classes this keeps the text
/// tower's distinctions between unseen names, which a text projection trained on the seen names alone may fold away.
/// </param>
public sealed record LitConfig(int ImageFeatureDim, int TextFeatureDim, int ProjectionDim = 128, int HiddenDim = 0, bool TextProjection = true)
{
    /// <summary>Width of the shared space: <see cref="ProjectionDim"/>, or the text width without a text projection.</summary>
    public int SharedDim => TextProjection ? ProjectionDim : TextFeatureDim;

    /// <summary>CLIP's initial temperature 0.07, as log(1/0.07).</summary>
    public static readonly double LogitScaleInit = Math.Log(1 / 0.07);

    /// <summary>Throws <see cref="ArgumentException"/> for a non-positive width.</summary>
    public LitConfig Validate()
    {
        if (ImageFeatureDim < 1 || TextFeatureDim < 1 || ProjectionDim < 1 || HiddenDim < 0)
            throw new ArgumentException($"LiT widths must be positive (image {ImageFeatureDim}, text {TextFeatureDim}, projection {ProjectionDim}, hidden {HiddenDim}).");
        return this;
    }
}

/// <summary>
/// Locked-tower contrastive tuning (LiT, Zhai et al. 2022, "LiT: Zero-Shot Transfer with Locked-image text
/// Tuning"): the image tower is pretrained and frozen and only what maps it into the shared space is trained.
/// Here both towers are frozen (ResNet18 for images, all-MiniLM-L6-v2 for text, through ONNX Runtime), so the
/// model is just the two projections and CLIP's learnable temperature, trained with the same symmetric InfoNCE
/// loss as <see cref="ClipModel"/>. It works on the towers' features, never on pixels or tokens, which is what
/// makes it cheap: the features are computed once and cached. Each side first standardises its features with
/// the training set's per-dimension mean and standard deviation (buffers fixed before training), so one
/// learning rate suits both towers' scales; ResNet features are non-negative and share a large common mean.
/// </summary>
public sealed class LitModel : nn.Module
{
    /// <summary>Image features → shared space.</summary>
    public readonly nn.Module<Tensor, Tensor> visual_projection;
    /// <summary>Text features → shared space.</summary>
    public readonly nn.Module<Tensor, Tensor> text_projection;
    /// <summary>log of the inverse temperature, a scalar (clamped so exp ≤ 100, as CLIP).</summary>
    public readonly Parameter logit_scale;
    /// <summary>Per-dimension mean of the training image features.</summary>
    public readonly Tensor image_mean;
    /// <summary>Per-dimension standard deviation of the training image features.</summary>
    public readonly Tensor image_std;
    /// <summary>Per-dimension mean of the training text features.</summary>
    public readonly Tensor text_mean;
    /// <summary>Per-dimension standard deviation of the training text features.</summary>
    public readonly Tensor text_std;

    /// <summary>The configuration.</summary>
    public LitConfig Config { get; }

    /// <summary>A model with projections initialised N(0, fan_in^-1/2) from <paramref name="seed"/>.</summary>
    public LitModel(LitConfig config, long seed = 1337) : base(nameof(LitModel))
    {
        Config = config.Validate();
        visual_projection = Projection(config.ImageFeatureDim, config.SharedDim, config.HiddenDim);
        text_projection = config.TextProjection ? Projection(config.TextFeatureDim, config.ProjectionDim, config.HiddenDim) : nn.Identity();
        logit_scale = new Parameter(tensor((float)LitConfig.LogitScaleInit));
        image_mean = zeros(config.ImageFeatureDim);
        image_std = ones(config.ImageFeatureDim);
        text_mean = zeros(config.TextFeatureDim);
        text_std = ones(config.TextFeatureDim);
        register_buffer(nameof(image_mean), image_mean);
        register_buffer(nameof(image_std), image_std);
        register_buffer(nameof(text_mean), text_mean);
        register_buffer(nameof(text_std), text_std);
        RegisterComponents();
        using var generator = new Generator((ulong)seed, CPU);
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name == "logit_scale") continue;
            if (name.EndsWith(".bias")) { p.zero_(); continue; }
            p.normal_(0, Math.Pow(p.shape[1], -0.5), generator);
        }
    }

    static nn.Module<Tensor, Tensor> Projection(int input, int output, int hidden) => hidden == 0
        ? nn.Linear(input, output, hasBias: false)
        : nn.Sequential(("fc1", nn.Linear(input, hidden)), ("act", nn.GELU()), ("fc2", nn.Linear(hidden, output, hasBias: false)));

    /// <summary>Fixes the standardisation buffers from the training features <c>[N, D]</c> of each tower.</summary>
    public void FitStandardisation(Tensor imageFeatures, Tensor textFeatures)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        image_mean.copy_(imageFeatures.mean([0]));
        image_std.copy_(imageFeatures.std(0) + 1e-6);
        if (!Config.TextProjection) return; // the text tower's space is used as it is
        text_mean.copy_(textFeatures.mean([0]));
        text_std.copy_(textFeatures.std(0) + 1e-6);
    }

    /// <summary>Unit-norm embeddings of frozen image features <c>[B, ImageFeatureDim]</c>.</summary>
    public Tensor EncodeImageFeatures(Tensor features)
    {
        using var scope = NewDisposeScope();
        return F.normalize(visual_projection.forward((features - image_mean) / image_std), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Unit-norm embeddings of frozen text features <c>[B, TextFeatureDim]</c>.</summary>
    public Tensor EncodeTextFeatures(Tensor features)
    {
        using var scope = NewDisposeScope();
        return F.normalize(text_projection.forward((features - text_mean) / text_std), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>exp(logit_scale), clamped at <see cref="ClipModel.MaxLogitScale"/>.</summary>
    public Tensor LogitScale() => logit_scale.exp().clamp_max(ClipModel.MaxLogitScale);

    /// <summary>Both embeddings and the scaled similarity logits of paired features.</summary>
    public ClipOutput Forward(Tensor imageFeatures, Tensor textFeatures)
    {
        using var scope = NewDisposeScope();
        var image = EncodeImageFeatures(imageFeatures);
        var text = EncodeTextFeatures(textFeatures);
        var logits = LogitScale() * image.matmul(text.t());
        return new ClipOutput(image.MoveToOuterDisposeScope(), text.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
    }

    // ---- checkpoints ----

    /// <summary>Weights file of a LiT folder.</summary>
    public const string WeightsFile = "lit.safetensors";
    /// <summary>Configuration file of a LiT folder.</summary>
    public const string ConfigFile = "lit_config.json";

    /// <summary>Writes <see cref="ConfigFile"/> (with the names of the towers it was trained on) and <see cref="WeightsFile"/>.</summary>
    public void Save(string folder, string imageTower, string textTower)
    {
        Directory.CreateDirectory(folder);
        var json = new JsonObject
        {
            ["image_feature_dim"] = Config.ImageFeatureDim, ["text_feature_dim"] = Config.TextFeatureDim,
            ["projection_dim"] = Config.ProjectionDim, ["hidden_dim"] = Config.HiddenDim, ["text_projection"] = Config.TextProjection,
            ["image_tower"] = imageTower, ["text_tower"] = textTower,
        };
        AtomicFile.WriteText(Path.Combine(folder, ConfigFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Safetensors.Save(Path.Combine(folder, WeightsFile), state_dict(), new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>Loads a folder written by <see cref="Save"/>: the model and the tower names it expects.</summary>
    public static (LitModel Model, string ImageTower, string TextTower) Load(string folder)
    {
        var path = Path.Combine(folder, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"LiT model folder '{folder}' has no {ConfigFile}.", path);
        LitConfig config;
        string imageTower, textTower;
        try
        {
            var j = JsonNode.Parse(File.ReadAllText(path))!;
            config = new LitConfig(j["image_feature_dim"]!.GetValue<int>(), j["text_feature_dim"]!.GetValue<int>(),
                j["projection_dim"]!.GetValue<int>(), j["hidden_dim"]!.GetValue<int>(), j["text_projection"]?.GetValue<bool>() ?? true);
            imageTower = j["image_tower"]!.GetValue<string>();
            textTower = j["text_tower"]!.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"'{path}' is not a LiT configuration (expected image_feature_dim, text_feature_dim, projection_dim, hidden_dim, image_tower, text_tower).");
        }
        var weights = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"LiT model folder '{folder}' has no {WeightsFile}.", weights);
        var model = new LitModel(config);
        Safetensors.LoadInto(model, weights, strict: true);
        model.eval();
        return (model, imageTower, textTower);
    }
}

// CLIP (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision"): an image
// tower and a text tower trained so that matching image-caption pairs have the highest cosine similarity in a
// batch (symmetric InfoNCE). Module and parameter names follow Hugging Face's CLIPModel exactly (modeling_clip.py),
// pre_layrnorm misspelling included, so HF safetensors load unchanged and ours load in transformers.
using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.IO;
using Farabi.Tokenizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Models.Clip;

/// <summary>Image and text embeddings of a batch, L2-normalised, with the logits CLIP's loss compares.</summary>
/// <param name="ImageEmbeds">[B, projection_dim], unit norm.</param>
/// <param name="TextEmbeds">[B', projection_dim], unit norm.</param>
/// <param name="LogitsPerImage">[B, B']: scale * cosine similarity.</param>
public sealed record ClipOutput(Tensor ImageEmbeds, Tensor TextEmbeds, Tensor LogitsPerImage) : IDisposable
{
    /// <summary>[B', B], the transpose of <see cref="LogitsPerImage"/>.</summary>
    public Tensor LogitsPerText => LogitsPerImage.t();

    /// <inheritdoc/>
    public void Dispose() { ImageEmbeds.Dispose(); TextEmbeds.Dispose(); LogitsPerImage.Dispose(); }
}

/// <summary>A CLIP model (HF <c>CLIPModel</c>): towers, projections and the learnable temperature.</summary>
public sealed class ClipModel : nn.Module
{
    /// <summary>Largest logit scale: CLIP clips the learned temperature so that exp(logit_scale) ≤ 100.</summary>
    public const double MaxLogitScale = 100.0;

    /// <summary>The text tower (HF <c>CLIPTextTransformer</c>).</summary>
    public readonly ClipTextTransformer text_model;
    /// <summary>The image tower (HF <c>CLIPVisionTransformer</c>, or Farabi's small CNN).</summary>
    public readonly ClipVisionTransformer vision_model;
    /// <summary>Image projection <c>[projection_dim, vision hidden]</c>, no bias.</summary>
    public readonly Linear visual_projection;
    /// <summary>Text projection <c>[projection_dim, text hidden]</c>, no bias.</summary>
    public readonly Linear text_projection;
    /// <summary>log of the inverse temperature, a scalar.</summary>
    public readonly Parameter logit_scale;

    /// <summary>The configuration.</summary>
    public ClipConfig Config { get; }

    /// <summary>Builds the model with HF's CLIP initialisation, seeded by <paramref name="seed"/>.</summary>
    public ClipModel(ClipConfig config, long seed = 1337) : base(nameof(ClipModel))
    {
        Config = config.Validate();
        text_model = new ClipTextTransformer(config.Text);
        vision_model = new ClipVisionTransformer(config.Vision);
        visual_projection = nn.Linear(config.Vision.HiddenSize, config.ProjectionDim, hasBias: false);
        text_projection = nn.Linear(config.Text.HiddenSize, config.ProjectionDim, hasBias: false);
        logit_scale = new Parameter(tensor((float)config.LogitScaleInitValue));
        RegisterComponents();
        Initialise(seed);
    }

    void Initialise(long seed)
    {
        // HF's CLIPPreTrainedModel._init_weights: embeddings N(0, 0.02); attention and MLP weights scaled by width
        // and depth so the residual stream keeps its variance; projections N(0, width^-1/2); zero biases, unit norms.
        using var generator = new Generator((ulong)seed, CPU);
        using var _ = no_grad();
        var f = Config.InitializerFactor;
        foreach (var (name, p) in named_parameters())
        {
            if (name == "logit_scale" || name.EndsWith(".bias") || name.Contains("layer_norm") || name.Contains("layrnorm") || name.Contains("layernorm"))
                continue;
            var text = name.StartsWith("text_model.");
            int width = text ? Config.Text.HiddenSize : Config.Vision.HiddenSize;
            int layers = text ? Config.Text.NumHiddenLayers : Config.Vision.NumHiddenLayers;
            double std;
            if (name.Contains("embedding")) std = name.Contains("class_embedding") ? Math.Pow(width, -0.5) * f
                : name.Contains("patch_embedding") ? 0.02 * f : 0.02 * f;
            else if (name.Contains("self_attn.out_proj")) std = Math.Pow(width, -0.5) * Math.Pow(2 * layers, -0.5) * f;
            else if (name.Contains("self_attn.")) std = Math.Pow(width, -0.5) * Math.Pow(2 * layers, -0.5) * f;
            else if (name.Contains("mlp.fc1")) std = Math.Pow(2 * width, -0.5) * f;
            else if (name.Contains("mlp.fc2")) std = Math.Pow(width, -0.5) * Math.Pow(2 * layers, -0.5) * f;
            else if (name == "visual_projection.weight") std = Math.Pow(Config.Vision.HiddenSize, -0.5) * f;
            else if (name == "text_projection.weight") std = Math.Pow(Config.Text.HiddenSize, -0.5) * f;
            else std = 0.02 * f; // the CNN tower's convolutions and linear
            p.normal_(0, std, generator); // not nn.init.normal_: TorchSharp 0.107 ignores its generator
        }
    }

    /// <summary>Unit-norm image embeddings of a preprocessed batch <c>[B, C, H, W]</c>.</summary>
    public Tensor EncodeImage(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var pooled = vision_model.Pooled(pixels);
        return F.normalize(visual_projection.forward(pooled), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Unit-norm text embeddings of token ids <c>[B, T]</c> (padded after the end-of-text token).</summary>
    public Tensor EncodeText(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var pooled = text_model.Pooled(ids);
        return F.normalize(text_projection.forward(pooled), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>exp(logit_scale), clamped at <see cref="MaxLogitScale"/> (a scalar tensor that carries the gradient below the clamp).</summary>
    public Tensor LogitScale() => logit_scale.exp().clamp_max(MaxLogitScale);

    /// <summary>Both embeddings and the scaled similarity logits of a batch of images and captions.</summary>
    public ClipOutput Forward(Tensor pixels, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var image = EncodeImage(pixels);
        var text = EncodeText(ids);
        var logits = LogitScale() * image.matmul(text.t());
        return new ClipOutput(image.MoveToOuterDisposeScope(), text.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// CLIP's symmetric InfoNCE loss: the mean of cross-entropy over images (each must pick its caption among
    /// the batch's) and over captions (each must pick its image), with pair i matching pair i.
    /// </summary>
    public static Tensor ContrastiveLoss(Tensor logitsPerImage)
    {
        using var scope = NewDisposeScope();
        var n = logitsPerImage.shape[0];
        if (logitsPerImage.shape[1] != n) throw new ArgumentException($"the contrastive loss needs a square logits matrix, not [{n}, {logitsPerImage.shape[1]}].");
        var labels = arange(n, dtype: ScalarType.Int64, device: logitsPerImage.device);
        var loss = (F.cross_entropy(logitsPerImage, labels) + F.cross_entropy(logitsPerImage.t(), labels)) / 2;
        return loss.MoveToOuterDisposeScope();
    }

    // ---- checkpoints ----

    /// <summary>Name of the weights file in a model folder (HF's).</summary>
    public const string WeightsFile = "model.safetensors";
    /// <summary>Name of the configuration file in a model folder (HF's).</summary>
    public const string ConfigFile = "config.json";

    /// <summary>HF checkpoint keys that are not weights (old files kept the position-id buffers).</summary>
    public static string? MapCheckpointKey(string key) => key.EndsWith("embeddings.position_ids") ? null : key;

    /// <summary>Writes <c>config.json</c> and <c>model.safetensors</c> with HF names to <paramref name="folder"/>.</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteText(Path.Combine(folder, ConfigFile), Config.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Safetensors.Save(Path.Combine(folder, WeightsFile), state_dict(), new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>Reads the configuration of an HF-style CLIP folder.</summary>
    /// <exception cref="FileNotFoundException">No config.json.</exception>
    public static ClipConfig LoadConfig(string folder)
    {
        var path = Path.Combine(folder, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP model folder '{folder}' has no {ConfigFile}.", path);
        JsonNode? json;
        try { json = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}"); }
        return ClipConfig.FromJson(json!, path);
    }

    /// <summary>
    /// Loads an HF-style CLIP folder (<c>config.json</c> + <c>model.safetensors</c>, from transformers or from
    /// <see cref="Save"/>). Every weight must be present with its shape.
    /// </summary>
    public static ClipModel Load(string folder)
    {
        var config = LoadConfig(folder);
        var weights = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"CLIP model folder '{folder}' has no {WeightsFile}.", weights);
        var model = new ClipModel(config);
        Safetensors.LoadInto(model, weights, strict: true, mapKey: MapCheckpointKey);
        return model;
    }
}

/// <summary>The activation named by <c>hidden_act</c>.</summary>
static class ClipActivation
{
    /// <summary>Applies <paramref name="name"/>; quick_gelu is OpenAI's <c>x * sigmoid(1.702 x)</c>.</summary>
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "quick_gelu" => x * torch.sigmoid(1.702 * x),
        "gelu" => F.gelu(x),
        _ => F.relu(x),
    };
}

/// <summary>Multi-head attention with separate q/k/v/out projections (HF <c>CLIPAttention</c>).</summary>
public sealed class ClipAttention : nn.Module
{
    /// <summary>Query projection.</summary>
    public readonly Linear q_proj;
    /// <summary>Key projection.</summary>
    public readonly Linear k_proj;
    /// <summary>Value projection.</summary>
    public readonly Linear v_proj;
    /// <summary>Output projection.</summary>
    public readonly Linear out_proj;
    readonly int heads;

    /// <summary>Attention of width <paramref name="width"/> with <paramref name="heads"/> heads.</summary>
    public ClipAttention(int width, int heads) : base(nameof(ClipAttention))
    {
        this.heads = heads;
        q_proj = nn.Linear(width, width);
        k_proj = nn.Linear(width, width);
        v_proj = nn.Linear(width, width);
        out_proj = nn.Linear(width, width);
        RegisterComponents();
    }

    /// <summary>Self-attention over <c>[B, T, C]</c>, causal for the text tower.</summary>
    public Tensor Forward(Tensor x, bool causal)
    {
        using var scope = NewDisposeScope();
        var (b, t, c) = (x.shape[0], x.shape[1], x.shape[2]);
        Tensor Heads(Tensor z) => z.view(b, t, heads, c / heads).transpose(1, 2);
        var y = F.scaled_dot_product_attention(Heads(q_proj.forward(x)), Heads(k_proj.forward(x)), Heads(v_proj.forward(x)), is_casual: causal);
        return out_proj.forward(y.transpose(1, 2).reshape(b, t, c)).MoveToOuterDisposeScope();
    }
}

/// <summary>The MLP of a CLIP layer (HF <c>CLIPMLP</c>): <c>fc2(act(fc1(x)))</c>.</summary>
public sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    /// <summary>Up projection.</summary>
    public readonly Linear fc1;
    /// <summary>Down projection.</summary>
    public readonly Linear fc2;
    readonly string activation;

    /// <summary>An MLP of width <paramref name="width"/> → <paramref name="inner"/> → <paramref name="width"/>.</summary>
    public ClipMlp(int width, int inner, string activation) : base(nameof(ClipMlp))
    {
        this.activation = activation;
        fc1 = nn.Linear(width, inner);
        fc2 = nn.Linear(inner, width);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(ClipActivation.Apply(activation, fc1.forward(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>A pre-LayerNorm CLIP layer (HF <c>CLIPEncoderLayer</c>).</summary>
public sealed class ClipEncoderLayer : nn.Module
{
    /// <summary>Self-attention.</summary>
    public readonly ClipAttention self_attn;
    /// <summary>Norm before attention.</summary>
    public readonly LayerNorm layer_norm1;
    /// <summary>Feed-forward.</summary>
    public readonly ClipMlp mlp;
    /// <summary>Norm before the MLP.</summary>
    public readonly LayerNorm layer_norm2;

    /// <summary>A layer of the given sizes.</summary>
    public ClipEncoderLayer(int width, int inner, int heads, string activation, double eps) : base(nameof(ClipEncoderLayer))
    {
        self_attn = new ClipAttention(width, heads);
        layer_norm1 = nn.LayerNorm(width, eps);
        mlp = new ClipMlp(width, inner, activation);
        layer_norm2 = nn.LayerNorm(width, eps);
        RegisterComponents();
    }

    /// <summary>Applies the layer to <c>[B, T, C]</c>.</summary>
    public Tensor Forward(Tensor x, bool causal)
    {
        using var scope = NewDisposeScope();
        x = x + self_attn.Forward(layer_norm1.forward(x), causal);
        x = x + mlp.forward(layer_norm2.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>A stack of layers (HF <c>CLIPEncoder</c>, whose only field is <c>layers</c>).</summary>
public sealed class ClipEncoder : nn.Module
{
    /// <summary>The layers.</summary>
    public readonly ModuleList<ClipEncoderLayer> layers;

    /// <summary><paramref name="count"/> layers of the given sizes.</summary>
    public ClipEncoder(int count, int width, int inner, int heads, string activation, double eps) : base(nameof(ClipEncoder))
    {
        layers = new ModuleList<ClipEncoderLayer>(Enumerable.Range(0, count).Select(_ => new ClipEncoderLayer(width, inner, heads, activation, eps)).ToArray());
        RegisterComponents();
    }

    /// <summary>Runs every layer.</summary>
    public Tensor Forward(Tensor x, bool causal)
    {
        using var scope = NewDisposeScope();
        foreach (var layer in layers) x = layer.Forward(x, causal);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>Token and position embeddings of the text tower (HF <c>CLIPTextEmbeddings</c>).</summary>
public sealed class ClipTextEmbeddings : nn.Module
{
    /// <summary>Token embedding <c>[vocab_size, hidden]</c>.</summary>
    public readonly Embedding token_embedding;
    /// <summary>Learned positions <c>[max_position_embeddings, hidden]</c>.</summary>
    public readonly Embedding position_embedding;

    /// <summary>Embeddings of <paramref name="config"/>.</summary>
    public ClipTextEmbeddings(ClipTextConfig config) : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = nn.Embedding(config.VocabSize, config.HiddenSize);
        position_embedding = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>Embeds ids <c>[B, T]</c>.</summary>
    public Tensor Forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var positions = arange(ids.shape[1], dtype: ScalarType.Int64, device: ids.device);
        return (token_embedding.forward(ids) + position_embedding.forward(positions)).MoveToOuterDisposeScope();
    }
}

/// <summary>The text tower (HF <c>CLIPTextTransformer</c>): causal transformer pooled at the end-of-text token.</summary>
public sealed class ClipTextTransformer : nn.Module
{
    /// <summary>Embeddings.</summary>
    public readonly ClipTextEmbeddings embeddings;
    /// <summary>The layers.</summary>
    public readonly ClipEncoder encoder;
    /// <summary>The final norm.</summary>
    public readonly LayerNorm final_layer_norm;
    readonly ClipTextConfig config;

    /// <summary>The tower of <paramref name="config"/>.</summary>
    public ClipTextTransformer(ClipTextConfig config) : base(nameof(ClipTextTransformer))
    {
        this.config = config;
        embeddings = new ClipTextEmbeddings(config);
        encoder = new ClipEncoder(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads, config.HiddenAct, config.LayerNormEps);
        final_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    /// <summary>Hidden states <c>[B, T, C]</c> after the final norm.</summary>
    public Tensor Hidden(Tensor ids)
    {
        using var scope = NewDisposeScope();
        if (ids.shape[1] > config.MaxPositionEmbeddings)
            throw new ArgumentException($"the CLIP text tower sees at most {config.MaxPositionEmbeddings} tokens; got {ids.shape[1]}.");
        var x = encoder.Forward(embeddings.Forward(ids), causal: true);
        return final_layer_norm.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>The index of the end-of-text token of each row, HF's rule for both kinds of config.</summary>
    public Tensor EosPositions(Tensor ids)
    {
        using var scope = NewDisposeScope();
        // HF: eos_token_id == 2 is the legacy config of OpenAI's checkpoints, whose end-of-text is the largest id,
        // so pool at argmax(ids); otherwise pool at the first occurrence of eos_token_id.
        var index = config.EosTokenId == 2
            ? ids.argmax(-1)
            : ids.eq(config.EosTokenId).to_type(ScalarType.Int32).argmax(-1);
        return index.MoveToOuterDisposeScope();
    }

    /// <summary>The pooled output <c>[B, C]</c>: the hidden state at each row's end-of-text token.</summary>
    public Tensor Pooled(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var hidden = Hidden(ids);
        var rows = arange(ids.shape[0], dtype: ScalarType.Int64, device: ids.device);
        return hidden.index(rows, EosPositions(ids)).MoveToOuterDisposeScope();
    }
}

/// <summary>Patch, class and position embeddings of the ViT (HF <c>CLIPVisionEmbeddings</c>).</summary>
public sealed class ClipVisionEmbeddings : nn.Module
{
    /// <summary>The class token <c>[hidden]</c>.</summary>
    public readonly Parameter class_embedding;
    /// <summary>Patchify-and-project: Conv2d with kernel = stride = patch_size, no bias.</summary>
    public readonly Conv2d patch_embedding;
    /// <summary>Positions <c>[patches + 1, hidden]</c>.</summary>
    public readonly Embedding position_embedding;

    /// <summary>Embeddings of <paramref name="config"/>.</summary>
    public ClipVisionEmbeddings(ClipVisionConfig config) : base(nameof(ClipVisionEmbeddings))
    {
        class_embedding = new Parameter(randn(config.HiddenSize));
        patch_embedding = nn.Conv2d(config.NumChannels, config.HiddenSize, config.PatchSize, stride: config.PatchSize, bias: false);
        position_embedding = nn.Embedding(config.PatchesPerSide * config.PatchesPerSide + 1, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>Embeds pixels <c>[B, C, H, W]</c> to <c>[B, patches + 1, hidden]</c>, the class token first.</summary>
    public Tensor Forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var b = pixels.shape[0];
        var patches = patch_embedding.forward(pixels).flatten(2).transpose(1, 2);
        var cls = class_embedding.view(1, 1, -1).expand(b, 1, -1);
        var x = cat([cls, patches], 1);
        if (x.shape[1] != position_embedding.weight!.shape[0])
            throw new ArgumentException($"the CLIP image tower expects {position_embedding.weight.shape[0] - 1} patches; the images give {x.shape[1] - 1} (wrong image size?).");
        return (x + position_embedding.weight).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The image tower (HF <c>CLIPVisionTransformer</c>): ViT with a class token and a LayerNorm before the layers
/// (CLIP's addition), pooled at the class token. With <c>farabi_tower = cnn</c> it is instead a small CNN
/// (three stride-2 convolutions and global average pooling), which learns faster on tiny images.
/// </summary>
public sealed class ClipVisionTransformer : nn.Module
{
    /// <summary>ViT embeddings (null for the CNN tower).</summary>
    public readonly ClipVisionEmbeddings? embeddings;
    /// <summary>The LayerNorm before the layers; HF's name keeps OpenAI's typo (null for the CNN tower).</summary>
    public readonly LayerNorm? pre_layrnorm;
    /// <summary>The layers (null for the CNN tower).</summary>
    public readonly ClipEncoder? encoder;
    /// <summary>The CNN tower (null for the ViT).</summary>
    public readonly Sequential? cnn;
    /// <summary>Norm of the pooled output.</summary>
    public readonly LayerNorm post_layernorm;

    /// <summary>The tower of <paramref name="config"/>.</summary>
    public ClipVisionTransformer(ClipVisionConfig config) : base(nameof(ClipVisionTransformer))
    {
        var w = config.HiddenSize;
        if (config.Tower == "cnn")
        {
            cnn = nn.Sequential(
                ("conv1", nn.Conv2d(config.NumChannels, w / 4, 3, stride: 2, padding: 1)), ("act1", nn.ReLU()),
                ("conv2", nn.Conv2d(w / 4, w / 2, 3, stride: 2, padding: 1)), ("act2", nn.ReLU()),
                ("conv3", nn.Conv2d(w / 2, w, 3, stride: 2, padding: 1)), ("act3", nn.ReLU()),
                ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()));
        }
        else
        {
            embeddings = new ClipVisionEmbeddings(config);
            pre_layrnorm = nn.LayerNorm(w, config.LayerNormEps);
            encoder = new ClipEncoder(config.NumHiddenLayers, w, config.IntermediateSize, config.NumAttentionHeads, config.HiddenAct, config.LayerNormEps);
        }
        post_layernorm = nn.LayerNorm(w, config.LayerNormEps);
        RegisterComponents();
    }

    /// <summary>The pooled output <c>[B, hidden]</c> (HF's <c>pooler_output</c>).</summary>
    public Tensor Pooled(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        Tensor pooled;
        if (cnn is not null) pooled = cnn.forward(pixels);
        else
        {
            var x = encoder!.Forward(pre_layrnorm!.forward(embeddings!.Forward(pixels)), causal: false);
            pooled = x.select(1, 0);
        }
        return post_layernorm.forward(pooled).MoveToOuterDisposeScope();
    }
}

using Farabi.Towers;
using Farabi.Vision;
using static TorchSharp.torch;

namespace Farabi.Research.Clip;

/// <summary>
/// A <see cref="LitModel"/> with its frozen towers: images and texts go through the towers (once: features are
/// kept in memory per image object and per text, and on disk in an <see cref="EmbeddingCache"/> when one is
/// given), then through the trained projections. Usable wherever an <see cref="IImageTextScorer"/> is.
/// </summary>
public sealed class LitScorer : IImageTextScorer, IDisposable
{
    readonly bool ownsTowers;
    readonly Dictionary<RgbImage, float[]> imageMemo = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<string, float[]> textMemo = new(StringComparer.Ordinal);

    /// <summary>The projections and temperature.</summary>
    public LitModel Model { get; }
    /// <summary>The frozen image tower.</summary>
    public IImageEmbedder ImageTower { get; }
    /// <summary>The frozen text tower.</summary>
    public ITextEmbedder TextTower { get; }
    /// <summary>The on-disk feature cache, or null.</summary>
    public EmbeddingCache? Cache { get; }
    /// <summary>Reports how many images the image tower has embedded in the current call (for progress bars).</summary>
    public IProgress<int>? ImageProgress { get; set; }

    /// <summary>Checks that the towers' widths are the model's.</summary>
    public LitScorer(LitModel model, IImageEmbedder imageTower, ITextEmbedder textTower, EmbeddingCache? cache = null)
    {
        if (imageTower.Dimension != model.Config.ImageFeatureDim)
            throw new ArgumentException($"the image tower {imageTower.Name} gives {imageTower.Dimension} features but the LiT model expects {model.Config.ImageFeatureDim}.");
        if (textTower.Dimension != model.Config.TextFeatureDim)
            throw new ArgumentException($"the text tower {textTower.Name} gives {textTower.Dimension} features but the LiT model expects {model.Config.TextFeatureDim}.");
        Model = model;
        ImageTower = imageTower;
        TextTower = textTower;
        Cache = cache;
    }

    LitScorer(LitModel model, IImageEmbedder imageTower, ITextEmbedder textTower, EmbeddingCache? cache, bool ownsTowers)
        : this(model, imageTower, textTower, cache) => this.ownsTowers = ownsTowers;

    /// <summary>
    /// Loads a LiT folder (<see cref="LitModel.Save"/>) with the towers it was trained on, ResNet18 and
    /// all-MiniLM-L6-v2 on ONNX Runtime; the scorer owns and disposes them.
    /// </summary>
    public static LitScorer Load(string folder, EmbeddingCache? cache = null, int threads = 1)
    {
        var (model, imageName, textName) = LitModel.Load(folder);
        IImageEmbedder image = new ResNet18Featurizer(threads);
        ITextEmbedder text = new MiniLmEncoder(threads);
        if (image.Name != imageName || text.Name != textName)
        {
            image.Dispose();
            text.Dispose();
            throw new InvalidDataException($"LiT model '{folder}' was trained on towers {imageName} and {textName}, but this build has {image.Name} and {text.Name}.");
        }
        return new LitScorer(model, image, text, cache, ownsTowers: true);
    }

    /// <summary>Disposes the towers when <see cref="Load"/> created them.</summary>
    public void Dispose()
    {
        if (!ownsTowers) return;
        ImageTower.Dispose();
        TextTower.Dispose();
    }

    /// <summary>The frozen image tower's features <c>[N, ImageFeatureDim]</c>; images not seen before are embedded together.</summary>
    public Tensor ImageFeatures(IReadOnlyList<RgbImage> images)
    {
        var missing = images.Where(i => !imageMemo.ContainsKey(i)).Distinct(ReferenceEqualityComparer.Instance).Cast<RgbImage>().ToList();
        if (missing.Count > 0)
        {
            var features = Cache is null ? ImageTower.Embed(missing, ImageProgress) : Cache.Embed(ImageTower, missing, ImageProgress);
            for (var i = 0; i < missing.Count; i++) imageMemo[missing[i]] = features[i];
        }
        return Stack(images.Select(i => imageMemo[i]).ToList(), Model.Config.ImageFeatureDim);
    }

    /// <summary>The frozen text tower's embeddings <c>[N, TextFeatureDim]</c>; each distinct text is embedded once.</summary>
    public Tensor TextFeatures(IReadOnlyList<string> texts)
    {
        var missing = texts.Where(t => !textMemo.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var features = Cache is null ? TextTower.Embed(missing) : Cache.Embed(TextTower, missing);
            for (var i = 0; i < missing.Count; i++) textMemo[missing[i]] = features[i];
        }
        return Stack(texts.Select(t => textMemo[t]).ToList(), Model.Config.TextFeatureDim);
    }

    static Tensor Stack(IReadOnlyList<float[]> rows, int dimension)
    {
        var flat = new float[rows.Count * dimension];
        for (var i = 0; i < rows.Count; i++) rows[i].CopyTo(flat, i * dimension);
        return tensor(flat, [rows.Count, dimension]);
    }

    /// <inheritdoc/>
    public Tensor EmbedImages(IReadOnlyList<RgbImage> images, int batchSize = 128)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return Model.EncodeImageFeatures(ImageFeatures(images)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor EmbedTexts(IReadOnlyList<string> texts, int batchSize = 256)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return Model.EncodeTextFeatures(TextFeatures(texts)).MoveToOuterDisposeScope();
    }
}

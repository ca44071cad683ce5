using Farabi.Models.Clip;
using Farabi.Vision;
using static TorchSharp.torch;

namespace Farabi.Research.Clip;

/// <summary>
/// A CLIP model with its tokenizer and image preprocessing: embeds images and captions and scores how well
/// they match. Reusable wherever a model must judge image-text agreement (zero-shot, reranking samples).
/// </summary>
public sealed class ClipScorer : IImageTextScorer
{
    /// <summary>The model.</summary>
    public ClipModel Model { get; }
    /// <summary>The caption tokenizer.</summary>
    public IClipTextTokenizer Tokenizer { get; }
    /// <summary>Resize, centre crop and normalisation to the image tower's input.</summary>
    public ClipPreprocess Preprocess { get; }

    /// <summary>A scorer for <paramref name="model"/>; images are resized to its image_size with CLIP's mean and std.</summary>
    public ClipScorer(ClipModel model, IClipTextTokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
        Preprocess = new ClipPreprocess(new ClipPreprocessOptions { Size = model.Config.Vision.ImageSize });
        if (tokenizer.ContextLength > model.Config.Text.MaxPositionEmbeddings)
            throw new ArgumentException($"the tokenizer's context length {tokenizer.ContextLength} exceeds the text tower's {model.Config.Text.MaxPositionEmbeddings} positions.");
    }

    /// <summary>Loads a model folder (ours or an HF CLIP folder with vocab.json + merges.txt).</summary>
    public static ClipScorer Load(string folder)
    {
        var model = ClipModel.Load(folder);
        model.eval();
        return new ClipScorer(model, CaptionWordTokenizer.LoadFor(folder, model.Config.Text.MaxPositionEmbeddings));
    }

    /// <summary>Token ids <c>[N, context]</c> of <paramref name="texts"/>.</summary>
    public Tensor Ids(IReadOnlyList<string> texts)
    {
        var ctx = Tokenizer.ContextLength;
        var data = new long[texts.Count * ctx];
        for (var i = 0; i < texts.Count; i++)
        {
            var row = Tokenizer.Tokenize(texts[i]);
            for (var j = 0; j < ctx; j++) data[i * ctx + j] = row[j];
        }
        return tensor(data, [texts.Count, ctx]);
    }

    /// <summary>Preprocessed pixels <c>[N, 3, S, S]</c>.</summary>
    public Tensor Pixels(IReadOnlyList<RgbImage> images) => ImageTensor.Batch(images, Preprocess);

    /// <summary>Unit-norm image embeddings <c>[N, D]</c>, in batches, without gradients.</summary>
    public Tensor EmbedImages(IReadOnlyList<RgbImage> images, int batchSize = 128)
    {
        if (images.Count == 0) return zeros([0, Model.Config.ProjectionDim]);
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (var i = 0; i < images.Count; i += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = images.Skip(i).Take(batchSize).ToList();
            parts.Add(Model.EncodeImage(Pixels(batch)).MoveToOuterDisposeScope());
        }
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    /// <summary>Unit-norm text embeddings <c>[N, D]</c>, in batches, without gradients.</summary>
    public Tensor EmbedTexts(IReadOnlyList<string> texts, int batchSize = 256)
    {
        if (texts.Count == 0) return zeros([0, Model.Config.ProjectionDim]);
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (var i = 0; i < texts.Count; i += batchSize)
        {
            using var scope = NewDisposeScope();
            parts.Add(Model.EncodeText(Ids(texts.Skip(i).Take(batchSize).ToList())).MoveToOuterDisposeScope());
        }
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }
}

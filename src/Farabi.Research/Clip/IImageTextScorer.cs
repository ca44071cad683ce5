using Farabi.Vision;
using static TorchSharp.torch;

namespace Farabi.Research.Clip;

/// <summary>
/// Anything that puts images and texts into one embedding space where cosine similarity says how well they
/// match: a CLIP trained here (<see cref="ClipScorer"/>), one with frozen pretrained towers and trained
/// projections (<see cref="LitScorer"/>). Zero-shot classification, the linear probe and reranking of generated
/// images (DALL-E) take this interface, so they work with either.
/// </summary>
public interface IImageTextScorer
{
    /// <summary>Unit-norm image embeddings <c>[N, D]</c>, without gradients.</summary>
    Tensor EmbedImages(IReadOnlyList<RgbImage> images, int batchSize = 128);

    /// <summary>Unit-norm text embeddings <c>[N, D]</c>, without gradients.</summary>
    Tensor EmbedTexts(IReadOnlyList<string> texts, int batchSize = 256);
}

/// <summary>Helpers shared by every <see cref="IImageTextScorer"/>.</summary>
public static class ImageTextScorerExtensions
{
    /// <summary>Cosine similarities <c>[images, texts]</c>.</summary>
    public static double[,] Similarity(this IImageTextScorer scorer, IReadOnlyList<RgbImage> images, IReadOnlyList<string> texts)
    {
        using var scope = NewDisposeScope();
        var s = scorer.EmbedImages(images).matmul(scorer.EmbedTexts(texts).t()).contiguous();
        var flat = s.data<float>().ToArray();
        var result = new double[images.Count, texts.Count];
        for (var i = 0; i < images.Count; i++)
            for (var j = 0; j < texts.Count; j++) result[i, j] = flat[i * texts.Count + j];
        return result;
    }

    /// <summary>
    /// Ranks <paramref name="candidates"/> by how well each matches <paramref name="caption"/>, best first
    /// (DALL-E's reranking of its samples): the indices and cosine similarities.
    /// </summary>
    public static IReadOnlyList<(int Index, double Score)> Rank(this IImageTextScorer scorer, string caption, IReadOnlyList<RgbImage> candidates)
    {
        var s = scorer.Similarity(candidates, [caption]);
        return Enumerable.Range(0, candidates.Count).Select(i => (i, s[i, 0])).OrderByDescending(p => p.Item2).ToList();
    }
}

using Farabi.Vision;

namespace Farabi.Towers;

/// <summary>A frozen text tower: texts in, one fixed-size embedding per text out.</summary>
public interface ITextEmbedder : IDisposable
{
    /// <summary>Short name used in cache keys and reports (e.g. <c>all-MiniLM-L6-v2</c>).</summary>
    string Name { get; }

    /// <summary>Length of every embedding.</summary>
    int Dimension { get; }

    /// <summary>Embeds each text; <paramref name="progress"/> receives the number of texts done so far.</summary>
    float[][] Embed(IReadOnlyList<string> texts, IProgress<int>? progress = null);
}

/// <summary>A frozen image tower: images in, one fixed-size feature vector per image out.</summary>
public interface IImageEmbedder : IDisposable
{
    /// <summary>Short name used in cache keys and reports (e.g. <c>resnet18</c>).</summary>
    string Name { get; }

    /// <summary>Length of every feature vector.</summary>
    int Dimension { get; }

    /// <summary>Embeds each image; <paramref name="progress"/> receives the number of images done so far.</summary>
    float[][] Embed(IReadOnlyList<RgbImage> images, IProgress<int>? progress = null);
}

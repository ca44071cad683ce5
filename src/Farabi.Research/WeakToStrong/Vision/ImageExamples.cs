using Farabi.Vision;

namespace Farabi.Research.WeakToStrong.Vision;

/// <summary>
/// Labelled examples of a multi-class image task as the weak-to-strong families see them: the images (for models
/// trained from pixels, such as the small CNN) and/or one frozen-tower feature vector per image (for probes). Either
/// view may be absent; a family that needs a missing view says so. Keeping both side by side lets one split (A, B,
/// validation, test) feed pixel models and feature probes alike.
/// </summary>
public sealed class ImageExamples
{
    /// <summary>Checks that every present view has one entry per label and that labels lie in <c>0..classes-1</c>.</summary>
    /// <exception cref="ArgumentException">Mismatched counts, ragged features or a label out of range.</exception>
    public ImageExamples(IReadOnlyList<RgbImage>? images, IReadOnlyList<float[]>? features, IReadOnlyList<int> labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (classes < 2) throw new ArgumentException($"A classification task needs at least 2 classes, not {classes}.");
        if (images != null && images.Count != labels.Count) throw new ArgumentException($"{images.Count} images for {labels.Count} labels.");
        if (features != null)
        {
            if (features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature vectors for {labels.Count} labels.");
            if (features.Count > 0 && features.Any(f => f.Length != features[0].Length))
                throw new ArgumentException($"Feature vectors must all have the length of the first ({features[0].Length}).");
        }
        for (var i = 0; i < labels.Count; i++)
            if (labels[i] < 0 || labels[i] >= classes) throw new ArgumentException($"Label {labels[i]} of example {i} is outside 0..{classes - 1}.");
        Images = images;
        Features = features;
        Labels = labels;
        Classes = classes;
    }

    /// <summary>The images, or null when only features are kept.</summary>
    public IReadOnlyList<RgbImage>? Images { get; }

    /// <summary>One frozen-tower feature vector per example, or null when only images are kept.</summary>
    public IReadOnlyList<float[]>? Features { get; }

    /// <summary>Ground-truth class of each example.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Number of classes (K).</summary>
    public int Classes { get; }

    /// <summary>Number of examples.</summary>
    public int Count => Labels.Count;

    /// <summary>The examples at <paramref name="indices"/>, in that order, with the same views.</summary>
    public ImageExamples Subset(IReadOnlyList<int> indices) => new(
        Images == null ? null : indices.Select(i => Images[i]).ToList(),
        Features == null ? null : indices.Select(i => Features[i]).ToList(),
        indices.Select(i => Labels[i]).ToList(), Classes);

    /// <summary>The same examples without their images (what a probe on cached features needs).</summary>
    public ImageExamples FeaturesOnly() => new(null, Features, Labels, Classes);

    /// <summary>Ground truth as one-hot target distributions.</summary>
    public float[][] OneHotTargets() => Labels.Select(l =>
    {
        var row = new float[Classes];
        row[l] = 1;
        return row;
    }).ToArray();
}

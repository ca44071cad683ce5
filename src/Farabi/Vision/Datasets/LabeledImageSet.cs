namespace Farabi.Vision.Datasets;

/// <summary>
/// Images with class labels and class names (CIFAR-10, MNIST, a folder per class ...), with the two
/// things CLIP needs from it: templated captions and splits that hold whole classes out of training.
/// </summary>
public sealed class LabeledImageSet
{
    /// <summary>The images.</summary>
    public IReadOnlyList<RgbImage> Images { get; }

    /// <summary>The class index of each image.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Class names by index, e.g. "airplane".</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Where the set came from (a file name), for reports and errors.</summary>
    public string Source { get; }

    /// <summary>Creates a set; every label must index <paramref name="classNames"/>.</summary>
    public LabeledImageSet(IReadOnlyList<RgbImage> images, IReadOnlyList<int> labels, IReadOnlyList<string> classNames, string source)
    {
        if (images.Count != labels.Count) throw new ArgumentException($"{source}: {images.Count} images but {labels.Count} labels.");
        for (var i = 0; i < labels.Count; i++)
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new InvalidDataException($"{source}: record {i} has label {labels[i]}, but there are only {classNames.Count} classes.");
        Images = images;
        Labels = labels;
        ClassNames = classNames;
        Source = source;
    }

    /// <summary>
    /// Loads a folder with one sub-folder per class (<c>root/cat/*.jpg</c>, <c>root/dog/*.png</c>), the layout
    /// of torchvision's <c>ImageFolder</c>: class names are the sub-folder names in ordinal order.
    /// </summary>
    public static LabeledImageSet LoadClassFolders(string root, int limitPerClass = int.MaxValue)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"the image folder {root} does not exist.");
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        if (classes.Count == 0) throw new InvalidDataException($"the image folder {root} has no class sub-folders (expected {root}/<class>/<image>).");
        var images = new List<RgbImage>();
        var labels = new List<int>();
        for (var c = 0; c < classes.Count; c++)
            foreach (var file in ImageFile.ListImages(Path.Combine(root, classes[c])).Take(limitPerClass))
            {
                images.Add(ImageFile.Load(file));
                labels.Add(c);
            }
        if (images.Count == 0) throw new InvalidDataException($"the class folders of {root} hold no images ({string.Join(", ", ImageFile.Extensions)}).");
        return new LabeledImageSet(images, labels, classes, Path.GetFileName(Path.TrimEndingDirectorySeparator(root)));
    }

    /// <summary>Number of images.</summary>
    public int Count => Images.Count;

    /// <summary>The default CLIP prompt, as in openai/CLIP's README.</summary>
    public const string DefaultTemplate = "a photo of a {label}.";

    /// <summary>Fills a template's <c>{label}</c> with a class name: <c>Caption("a photo of a {label}.", "cat")</c> is "a photo of a cat.".</summary>
    public static string Caption(string template, string label)
    {
        if (!template.Contains("{label}", StringComparison.Ordinal))
            throw new FormatException($"the caption template \"{template}\" has no {{label}} placeholder.");
        return template.Replace("{label}", label, StringComparison.Ordinal);
    }

    /// <summary>One caption per image from its class name.</summary>
    public IReadOnlyList<string> Captions(string template = DefaultTemplate) =>
        Labels.Select(l => Caption(template, ClassNames[l])).ToList();

    /// <summary>The images whose positions are given, with the same class names.</summary>
    public LabeledImageSet Subset(IEnumerable<int> indices, string? source = null)
    {
        var idx = indices.ToList();
        return new LabeledImageSet(idx.Select(i => Images[i]).ToList(), idx.Select(i => Labels[i]).ToList(), ClassNames, source ?? Source);
    }

    /// <summary>The first <paramref name="count"/> images (all if fewer).</summary>
    public LabeledImageSet Take(int count) => Subset(Enumerable.Range(0, Math.Min(count, Count)));

    /// <summary>
    /// Splits by class for honest zero-shot: <c>Seen</c> holds only images of the other classes,
    /// <c>Unseen</c> only images of <paramref name="heldOutClasses"/>; both keep the full class list and
    /// original label indices, so a classifier over all names can be scored on either.
    /// </summary>
    public (LabeledImageSet Seen, LabeledImageSet Unseen) HoldOutClasses(IEnumerable<string> heldOutClasses)
    {
        var held = new HashSet<int>();
        foreach (var name in heldOutClasses)
        {
            var i = ClassNames.ToList().FindIndex(c => string.Equals(c, name.Trim(), StringComparison.OrdinalIgnoreCase));
            if (i < 0) throw new ArgumentException($"\"{name}\" is not a class of {Source} (classes: {string.Join(", ", ClassNames)}).");
            held.Add(i);
        }
        if (held.Count == 0) throw new ArgumentException("hold out at least one class.");
        if (held.Count == ClassNames.Count) throw new ArgumentException($"holding out every class of {Source} leaves nothing to train on.");
        var seen = Enumerable.Range(0, Count).Where(i => !held.Contains(Labels[i]));
        var unseen = Enumerable.Range(0, Count).Where(i => held.Contains(Labels[i]));
        return (Subset(seen, Source + " (seen classes)"), Subset(unseen, Source + " (held-out classes)"));
    }
}

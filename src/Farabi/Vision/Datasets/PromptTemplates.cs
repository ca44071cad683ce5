namespace Farabi.Vision.Datasets;

/// <summary>
/// Caption templates for zero-shot classification, with <c>{label}</c> where the class name goes. The
/// CIFAR-10 and MNIST lists are the ones openai/CLIP used for its paper's zero-shot scores
/// (<c>data/prompts.md</c>); prompt ensembling averages the normalised text embeddings over a list.
/// </summary>
public static class PromptTemplates
{
    /// <summary>The single default prompt of openai/CLIP's README.</summary>
    public static IReadOnlyList<string> Default { get; } = [LabeledImageSet.DefaultTemplate];

    /// <summary>openai/CLIP's 18 CIFAR-10 (and CIFAR-100) templates.</summary>
    public static IReadOnlyList<string> Cifar10 { get; } =
    [
        "a photo of a {label}.", "a blurry photo of a {label}.", "a black and white photo of a {label}.",
        "a low contrast photo of a {label}.", "a high contrast photo of a {label}.", "a bad photo of a {label}.",
        "a good photo of a {label}.", "a photo of a small {label}.", "a photo of a big {label}.",
        "a photo of the {label}.", "a blurry photo of the {label}.", "a black and white photo of the {label}.",
        "a low contrast photo of the {label}.", "a high contrast photo of the {label}.", "a bad photo of the {label}.",
        "a good photo of the {label}.", "a photo of the small {label}.", "a photo of the big {label}.",
    ];

    /// <summary>openai/CLIP's MNIST template; its class names are the digits "0".."9".</summary>
    public static IReadOnlyList<string> Mnist { get; } = ["a photo of the number: \"{label}\"."];

    /// <summary>Templates in the words of the scene grammar, for labels such as "purple triangle".</summary>
    public static IReadOnlyList<string> Scenes { get; } =
        ["a {label}.", "a picture of a {label}.", "an image of a {label}.", "a drawing of a {label}.", "one {label}."];

    /// <summary>Every template filled with <paramref name="label"/>.</summary>
    public static IReadOnlyList<string> Fill(IReadOnlyList<string> templates, string label) =>
        templates.Select(t => LabeledImageSet.Caption(t, label)).ToList();
}

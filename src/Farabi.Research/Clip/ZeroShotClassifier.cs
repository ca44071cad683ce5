using Farabi.Vision;
using Farabi.Vision.Datasets;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Research.Clip;

/// <summary>Accuracy of a classifier on a labelled set, with its confusion matrix.</summary>
/// <param name="Top1">Fraction whose highest-scoring class is right.</param>
/// <param name="Top5">Fraction whose right class is among the five highest (all classes when fewer than five).</param>
/// <param name="Confusion">[true class, predicted class] counts.</param>
/// <param name="Predictions">Top-1 class per example.</param>
/// <param name="ClassNames">Names of the classes.</param>
public sealed record ClassificationResult(double Top1, double Top5, int[,] Confusion, int[] Predictions, IReadOnlyList<string> ClassNames)
{
    /// <summary>Scores <paramref name="logits"/> <c>[N, C]</c> against <paramref name="labels"/>.</summary>
    public static ClassificationResult FromLogits(Tensor logits, IReadOnlyList<int> labels, IReadOnlyList<string> classNames)
    {
        using var scope = NewDisposeScope();
        var n = labels.Count;
        if (n == 0) return new ClassificationResult(double.NaN, double.NaN, new int[classNames.Count, classNames.Count], [], classNames);
        var c = (int)logits.shape[1];
        var k = Math.Min(5, c);
        var top = logits.topk(k, dim: 1).indexes.to_type(ScalarType.Int64).contiguous().data<long>().ToArray();
        var confusion = new int[classNames.Count, classNames.Count];
        var predictions = new int[n];
        int hit1 = 0, hit5 = 0;
        for (var i = 0; i < n; i++)
        {
            predictions[i] = (int)top[i * k];
            confusion[labels[i], predictions[i]]++;
            if (predictions[i] == labels[i]) hit1++;
            for (var j = 0; j < k; j++) if (top[i * k + j] == labels[i]) { hit5++; break; }
        }
        return new ClassificationResult((double)hit1 / n, (double)hit5 / n, confusion, predictions, classNames);
    }
}

/// <summary>
/// CLIP's zero-shot classifier (Radford et al. 2021, §3.1.4): each class is the caption embedding of prompts
/// such as "a photo of a {label}."; with several templates the class embedding is the mean of the unit-norm
/// prompt embeddings, renormalised (prompt ensembling, §3.1.4). An image goes to the class of highest cosine.
/// </summary>
public sealed class ZeroShotClassifier : IDisposable
{
    /// <summary>Unit-norm class embeddings <c>[C, D]</c>.</summary>
    public Tensor ClassEmbeddings { get; }
    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The templates ensembled per class.</summary>
    public IReadOnlyList<string> Templates { get; }
    readonly IImageTextScorer scorer;

    /// <summary>Embeds every class name in every template with <paramref name="scorer"/>.</summary>
    public ZeroShotClassifier(IImageTextScorer scorer, IReadOnlyList<string> classNames, IReadOnlyList<string> templates)
    {
        if (classNames.Count == 0) throw new ArgumentException("zero-shot classification needs at least one class name.");
        if (templates.Count == 0) throw new ArgumentException("zero-shot classification needs at least one template.");
        this.scorer = scorer;
        ClassNames = classNames;
        Templates = templates;
        var prompts = classNames.SelectMany(name => PromptTemplates.Fill(templates, name)).ToList();
        using var scope = NewDisposeScope();
        var perPrompt = scorer.EmbedTexts(prompts).view(classNames.Count, templates.Count, -1);
        ClassEmbeddings = Ensemble(perPrompt).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Prompt ensembling: <c>[C, T, D]</c> prompt embeddings → <c>[C, D]</c>, the mean over templates of the
    /// L2-normalised embeddings, normalised again.
    /// </summary>
    public static Tensor Ensemble(Tensor perPrompt)
    {
        using var scope = NewDisposeScope();
        var mean = F.normalize(perPrompt, dim: -1).mean([1]);
        return F.normalize(mean, dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Cosine similarities <c>[N, C]</c> of unit-norm image embeddings with the classes.</summary>
    public Tensor Scores(Tensor imageEmbeddings) => imageEmbeddings.matmul(ClassEmbeddings.t());

    /// <summary>Classifies <paramref name="set"/> (its class names index the same way as <see cref="ClassNames"/>).</summary>
    public ClassificationResult Evaluate(LabeledImageSet set)
    {
        using var scope = NewDisposeScope();
        return Evaluate(scorer.EmbedImages(set.Images), set.Labels);
    }

    /// <summary>Classifies precomputed image embeddings.</summary>
    public ClassificationResult Evaluate(Tensor imageEmbeddings, IReadOnlyList<int> labels)
    {
        using var scope = NewDisposeScope();
        return ClassificationResult.FromLogits(Scores(imageEmbeddings), labels, ClassNames);
    }

    /// <summary>Top-1 class of each image.</summary>
    public int[] Predict(IReadOnlyList<RgbImage> images)
    {
        using var scope = NewDisposeScope();
        return Scores(scorer.EmbedImages(images)).argmax(1).to_type(ScalarType.Int64).data<long>().Select(x => (int)x).ToArray();
    }

    /// <inheritdoc/>
    public void Dispose() => ClassEmbeddings.Dispose();
}

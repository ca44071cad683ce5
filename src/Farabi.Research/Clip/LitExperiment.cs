using Farabi.Towers;
using Farabi.Vision.Datasets;

namespace Farabi.Research.Clip;

/// <summary>Settings of a LiT run.</summary>
public sealed record LitOptions
{
    /// <summary>Width of the shared space.</summary>
    public int ProjectionDim { get; init; } = 128;
    /// <summary>0: linear projections; otherwise the hidden width of an MLP on each side.</summary>
    public int HiddenDim { get; init; }
    /// <summary>False: no text projection; image features are mapped into the text tower's own space (see <see cref="LitConfig.TextProjection"/>).</summary>
    public bool TextProjection { get; init; } = true;
    /// <summary>Seed of captions, initialisation and batch order.</summary>
    public long Seed { get; init; }
    /// <summary>Optimisation; each step is cheap, so larger batches than CLIP's defaults.</summary>
    public ClipTrainingOptions Training { get; init; } = new() { Steps = 500, BatchSize = 256, LearningRate = 1e-3, WarmupSteps = 25, WeightDecay = 0.1 };
}

/// <summary>
/// The held-out-classes experiment with LiT: the same training captions, zero-shot classifier, probe and chance
/// as <see cref="ClipClassSetExperiment"/>, but the towers are pretrained and frozen (ResNet18 on ImageNet,
/// all-MiniLM-L6-v2 on a billion sentence pairs), and only the projections and temperature are trained. A class
/// held out of the projections' training is still a word the text tower knows, so zero-shot on it can rise
/// above chance, which a from-scratch word-level model cannot.
/// </summary>
public static class LitExperiment
{
    /// <summary>
    /// Trains on <paramref name="train"/> without <paramref name="heldOutClasses"/>, evaluates on <paramref name="test"/>;
    /// <paramref name="featureProgress"/> counts images through the image tower (training set, then test set).
    /// </summary>
    public static ClassSetResult Run(LabeledImageSet train, LabeledImageSet test, IReadOnlyList<string> heldOutClasses, IReadOnlyList<string> templates,
        IImageEmbedder imageTower, ITextEmbedder textTower, EmbeddingCache? cache, LitOptions o,
        Action<ClipStepReport>? onStep = null, CancellationToken cancellation = default, IProgress<int>? featureProgress = null)
    {
        var (seen, captions) = ClassSetProtocol.TrainingPairs(train, heldOutClasses, templates, o.Seed);
        var model = new LitModel(new LitConfig(imageTower.Dimension, textTower.Dimension, o.ProjectionDim, o.HiddenDim, o.TextProjection), o.Seed);
        var scorer = new LitScorer(model, imageTower, textTower, cache);
        // The full sets go through the towers in one call each, so the cache holds one file per data set and
        // every later subset (seen, held-out, probe halves) is served from memory.
        scorer.ImageProgress = featureProgress;
        using var trainImages = scorer.ImageFeatures(train.Images);
        scorer.ImageProgress = featureProgress is null ? null : new OffsetProgress(featureProgress, train.Count);
        using var testImages = scorer.ImageFeatures(test.Images);
        scorer.ImageProgress = null;
        using var imageFeatures = scorer.ImageFeatures(seen.Images);
        using var textFeatures = scorer.TextFeatures(captions);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var losses = LitTraining.Train(model, imageFeatures, textFeatures, o.Training with { Seed = o.Seed }, onStep, cancellation);
        return ClassSetProtocol.Evaluate(scorer, losses, clock.Elapsed.TotalSeconds, test, heldOutClasses, templates, o.Seed);
    }

    sealed class OffsetProgress(IProgress<int> inner, int offset) : IProgress<int>
    {
        public void Report(int value) => inner.Report(offset + value);
    }
}

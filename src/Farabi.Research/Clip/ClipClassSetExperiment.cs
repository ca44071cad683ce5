using Farabi.Models.Clip;
using Farabi.Vision.Datasets;
using static TorchSharp.torch;

namespace Farabi.Research.Clip;

/// <summary>What a held-out-classes experiment measured, for any <see cref="IImageTextScorer"/>.</summary>
/// <param name="Scorer">The trained model (a <see cref="ClipScorer"/> or a <see cref="LitScorer"/>).</param>
/// <param name="Losses">Training loss per step.</param>
/// <param name="ZeroShotUnseen">Zero-shot over all class names on test images of the held-out classes.</param>
/// <param name="ZeroShotSeen">Zero-shot over all class names on test images of the training classes.</param>
/// <param name="ProbeUnseenTop1">Linear probe (fitted on a random half of the test images, every class) on the other half's held-out-class images.</param>
/// <param name="ProbeSeenTop1">The same probe on the other half's training-class images.</param>
/// <param name="Chance">1 / number of classes.</param>
/// <param name="TrainSeconds">Wall time of training.</param>
/// <param name="ZeroShotUnseenAmongUnseen">
/// Zero-shot on the held-out classes' images choosing only among the held-out class names (the classic zero-shot
/// protocol; <see cref="ZeroShotUnseen"/> is the harder "generalized" one, where the seen classes compete too).
/// </param>
/// <param name="SeenUnseenCurve">Generalized zero-shot under calibrated stacking: seen and held-out accuracy for every constant γ subtracted from the seen classes' scores.</param>
public sealed record ClassSetResult(IImageTextScorer Scorer, IReadOnlyList<double> Losses, ClassificationResult ZeroShotUnseen, ClassificationResult ZeroShotSeen,
    double ProbeUnseenTop1, double ProbeSeenTop1, double Chance, double TrainSeconds, ClassificationResult ZeroShotUnseenAmongUnseen,
    IReadOnlyList<SeenUnseenPoint> SeenUnseenCurve)
{
    /// <summary>Area under the seen–unseen accuracy curve (Chao et al. 2016): generalized zero-shot without choosing γ.</summary>
    public double SeenUnseenArea => GeneralizedZeroShot.AreaUnderCurve(SeenUnseenCurve);

    /// <summary>The point of <see cref="SeenUnseenCurve"/> with the best harmonic mean (γ picked on test labels: an upper bound).</summary>
    public SeenUnseenPoint BestCalibrated => SeenUnseenCurve.MaxBy(p => p.HarmonicMean);

    /// <summary>Chance of <see cref="ZeroShotUnseenAmongUnseen"/>: 1 / number of held-out classes.</summary>
    public double UnseenChance => 1.0 / ZeroShotUnseenAmongUnseen.ClassNames.Count;
}

/// <summary>
/// The parts every held-out-classes experiment shares, whatever the model: the training captions (which never
/// name a held-out class) and the evaluation (zero-shot over all class names, linear probe, chance).
/// </summary>
public static class ClassSetProtocol
{
    /// <summary>
    /// The training pairs: the images of the classes not held out, each captioned with one template drawn with
    /// <paramref name="seed"/> and its class name. Throws <see cref="ArgumentException"/> naming an unknown class.
    /// </summary>
    public static (LabeledImageSet Seen, IReadOnlyList<string> Captions) TrainingPairs(LabeledImageSet train, IReadOnlyList<string> heldOutClasses,
        IReadOnlyList<string> templates, long seed)
    {
        if (templates.Count == 0) throw new ArgumentException("captioning needs at least one template.");
        var (seen, _) = train.HoldOutClasses(heldOutClasses);
        var rng = new Random((int)seed);
        var captions = seen.Labels.Select(l => LabeledImageSet.Caption(templates[rng.Next(templates.Count)], seen.ClassNames[l])).ToList();
        return (seen, captions);
    }

    /// <summary>
    /// Zero-shot over every class name (templates ensembled) on the held-out and on the training classes of
    /// <paramref name="test"/>, and a linear probe on the scorer's image embeddings fitted on the even test
    /// half of the test images (all classes, a seeded shuffle) and scored on the other half.
    /// </summary>
    public static ClassSetResult Evaluate(IImageTextScorer scorer, IReadOnlyList<double> losses, double trainSeconds, LabeledImageSet test,
        IReadOnlyList<string> heldOutClasses, IReadOnlyList<string> templates, long seed)
    {
        var (testSeen, testUnseen) = test.HoldOutClasses(heldOutClasses);
        if (testSeen.Count < 2 || testUnseen.Count < 2)
            throw new ArgumentException($"{test.Source}: its {test.Count} test images hold {testUnseen.Count} of the held-out classes and {testSeen.Count} of the others; " +
                                        "use more test images so that both can be scored.");
        using var zeroShot = new ZeroShotClassifier(scorer, test.ClassNames, templates);
        using var scope = NewDisposeScope();
        var seenEmbeddings = scorer.EmbedImages(testSeen.Images);
        var unseenEmbeddings = scorer.EmbedImages(testUnseen.Images);
        var zsSeen = zeroShot.Evaluate(seenEmbeddings, testSeen.Labels);
        var zsUnseen = zeroShot.Evaluate(unseenEmbeddings, testUnseen.Labels);
        var heldSet = heldOutClasses.Select(n => n.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase); // as HoldOutClasses matches them
        var curve = GeneralizedZeroShot.Curve(Rows(zeroShot.Scores(seenEmbeddings)), testSeen.Labels, Rows(zeroShot.Scores(unseenEmbeddings)), testUnseen.Labels,
            test.ClassNames.Select(n => !heldSet.Contains(n)).ToList());
        // The classic protocol: the same images, only the held-out names as candidates.
        var heldIndex = testUnseen.Labels.Distinct().Order().ToList();
        var heldNames = heldIndex.Select(i => test.ClassNames[i]).ToList();
        using var heldOnly = new ZeroShotClassifier(scorer, heldNames, templates);
        var zsAmongUnseen = heldOnly.Evaluate(new LabeledImageSet(testUnseen.Images, testUnseen.Labels.Select(l => heldIndex.IndexOf(l)).ToList(), heldNames, testUnseen.Source));

        // The probe's halves: a seeded shuffle, so a set whose labels cycle with the index still lands every class in both.
        var rng = new Random((int)seed + 1);
        var order = Enumerable.Range(0, test.Count).OrderBy(_ => rng.Next()).ToList();
        var fit = test.Subset(order.Take(test.Count / 2));
        var (seenOdd, unseenOdd) = test.Subset(order.Skip(test.Count / 2)).HoldOutClasses(heldOutClasses);
        using var probe = LinearProbe.Fit(scorer.EmbedImages(fit.Images), fit.Labels, test.ClassNames.Count, seed: seed);
        var probeUnseen = ClassificationResult.FromLogits(probe.Logits(scorer.EmbedImages(unseenOdd.Images)), unseenOdd.Labels, unseenOdd.ClassNames).Top1;
        var probeSeen = ClassificationResult.FromLogits(probe.Logits(scorer.EmbedImages(seenOdd.Images)), seenOdd.Labels, seenOdd.ClassNames).Top1;
        return new ClassSetResult(scorer, losses, zsUnseen, zsSeen, probeUnseen, probeSeen, 1.0 / test.ClassNames.Count, trainSeconds, zsAmongUnseen, curve);
    }

    static float[][] Rows(Tensor scores)
    {
        var flat = scores.contiguous().data<float>().ToArray();
        int width = (int)scores.shape[1];
        return Enumerable.Range(0, (int)scores.shape[0]).Select(r => flat.AsSpan(r * width, width).ToArray()).ToArray();
    }
}

/// <summary>
/// CLIP trained from scratch on a labelled image set with templated captions ("a photo of a {label}."): train
/// on the images of some classes, then classify images of classes never seen in training by their names alone.
/// With a word-level vocabulary an unseen class name is a word the text tower never trained on (its embedding
/// keeps its random initialisation), so this measures honestly how little a tiny model trained from scratch
/// transfers; CLIP's transfer comes from the breadth of its 400M captions, and <see cref="LitExperiment"/>
/// borrows that breadth from pretrained towers.
/// </summary>
public static class ClipClassSetExperiment
{
    /// <summary>Trains on <paramref name="train"/> without <paramref name="heldOutClasses"/>, evaluates on <paramref name="test"/>.</summary>
    public static ClassSetResult Run(LabeledImageSet train, LabeledImageSet test, IReadOnlyList<string> heldOutClasses, IReadOnlyList<string> templates,
        ClipSceneOptions o, Action<ClipStepReport>? onStep = null, CancellationToken cancellation = default)
    {
        var (seen, captions) = ClassSetProtocol.TrainingPairs(train, heldOutClasses, templates, o.Seed);
        var tokenizer = CaptionWordTokenizer.Build(test.ClassNames.SelectMany(n => PromptTemplates.Fill(templates, n)), o.ContextLength);
        var config = ClipConfig.Tiny(tokenizer.VocabSize, o.ContextLength, o.ImageSize, o.PatchSize, o.Width, o.Layers, o.Heads, o.ProjectionDim, o.Tower);
        var scorer = new ClipScorer(new ClipModel(config, o.Seed), tokenizer);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var losses = ClipTraining.Train(scorer, seen.Images, captions, o.Training with { Seed = o.Seed }, onStep, cancellation);
        return ClassSetProtocol.Evaluate(scorer, losses, clock.Elapsed.TotalSeconds, test, heldOutClasses, templates, o.Seed);
    }
}

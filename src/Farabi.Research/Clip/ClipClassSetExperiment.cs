using Farabi.Models.Clip;
using Farabi.Vision.Datasets;
using static TorchSharp.torch;

namespace Farabi.Research.Clip;

/// <summary>What the labelled-set experiment measured.</summary>
/// <param name="Scorer">The trained model with its tokenizer.</param>
/// <param name="Losses">Training loss per step.</param>
/// <param name="ZeroShotUnseen">Zero-shot over all class names on test images of the held-out classes.</param>
/// <param name="ZeroShotSeen">Zero-shot over all class names on test images of the training classes.</param>
/// <param name="ProbeUnseenTop1">Linear probe (fitted on half the test images of every class) on the other half's held-out-class images.</param>
/// <param name="Chance">1 / number of classes.</param>
/// <param name="TrainSeconds">Wall time of training.</param>
public sealed record ClipClassSetResult(ClipScorer Scorer, IReadOnlyList<double> Losses, ClassificationResult ZeroShotUnseen, ClassificationResult ZeroShotSeen,
    double ProbeUnseenTop1, double Chance, double TrainSeconds);

/// <summary>
/// CLIP on a labelled image set with templated captions ("a photo of a {label}."): train on the images of
/// some classes, then classify images of classes never seen in training by their names alone. With a
/// word-level vocabulary an unseen class name is a word the text tower never trained on, so this measures
/// honestly how little a tiny model trained from scratch transfers; CLIP's transfer comes from the breadth of
/// its 400M captions.
/// </summary>
public static class ClipClassSetExperiment
{
    /// <summary>Trains on <paramref name="train"/> without <paramref name="heldOutClasses"/>, evaluates on <paramref name="test"/>.</summary>
    public static ClipClassSetResult Run(LabeledImageSet train, LabeledImageSet test, IReadOnlyList<string> heldOutClasses, IReadOnlyList<string> templates,
        ClipSceneOptions o, Action<ClipStepReport>? onStep = null, CancellationToken cancellation = default)
    {
        var (seen, _) = train.HoldOutClasses(heldOutClasses);
        var rng = new Random((int)o.Seed);
        var captions = seen.Labels.Select(l => LabeledImageSet.Caption(templates[rng.Next(templates.Count)], seen.ClassNames[l])).ToList();
        var tokenizer = CaptionWordTokenizer.Build(test.ClassNames.SelectMany(n => PromptTemplates.Fill(templates, n)), o.ContextLength);
        var imageSize = seen.Images[0].Width;
        var config = ClipConfig.Tiny(tokenizer.VocabSize, o.ContextLength, imageSize, o.PatchSize, o.Width, o.Layers, o.Heads, o.ProjectionDim, o.Tower);
        var scorer = new ClipScorer(new ClipModel(config, o.Seed), tokenizer);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var losses = ClipTraining.Train(scorer, seen.Images, captions, o.Training with { Seed = o.Seed }, onStep, cancellation);
        var seconds = clock.Elapsed.TotalSeconds;

        var (testSeen, testUnseen) = test.HoldOutClasses(heldOutClasses);
        using var zeroShot = new ZeroShotClassifier(scorer, test.ClassNames, templates);
        using var scope = NewDisposeScope();
        var zsSeen = zeroShot.Evaluate(testSeen);
        var zsUnseen = zeroShot.Evaluate(testUnseen);

        // Probe: fit on even test indices, score the odd ones of the held-out classes.
        var fit = test.Subset(Enumerable.Range(0, test.Count).Where(i => i % 2 == 0));
        var (_, unseenOdd) = test.Subset(Enumerable.Range(0, test.Count).Where(i => i % 2 == 1)).HoldOutClasses(heldOutClasses);
        using var probe = LinearProbe.Fit(scorer.EmbedImages(fit.Images), fit.Labels, test.ClassNames.Count, seed: o.Seed);
        var probeUnseen = ClassificationResult.FromLogits(probe.Logits(scorer.EmbedImages(unseenOdd.Images)), unseenOdd.Labels, unseenOdd.ClassNames).Top1;
        return new ClipClassSetResult(scorer, losses, zsUnseen, zsSeen, probeUnseen, 1.0 / test.ClassNames.Count, seconds);
    }
}

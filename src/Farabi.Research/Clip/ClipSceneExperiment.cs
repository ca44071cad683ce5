using Farabi.Models.Clip;
using Farabi.Vision.Datasets;
using Farabi.Vision.Scenes;
using static TorchSharp.torch;

namespace Farabi.Research.Clip;

/// <summary>Settings of the procedural-scene CLIP experiment.</summary>
public sealed record ClipSceneOptions
{
    /// <summary>Image side in pixels.</summary>
    public int ImageSize { get; init; } = 32;
    /// <summary>ViT patch side.</summary>
    public int PatchSize { get; init; } = 8;
    /// <summary>Width of both towers.</summary>
    public int Width { get; init; } = 64;
    /// <summary>Layers of each tower.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Width of the shared embedding.</summary>
    public int ProjectionDim { get; init; } = 64;
    /// <summary>Image tower: vit or cnn.</summary>
    public string Tower { get; init; } = "vit";
    /// <summary>Training image-caption pairs (scenes 0 .. N-1 of the train split).</summary>
    public int TrainScenes { get; init; } = 4000;
    /// <summary>Test images per split (seen combinations, held-out combinations).</summary>
    public int TestScenes { get; init; } = 360;
    /// <summary>Combinations never shown in training, e.g. "purple triangle".</summary>
    public IReadOnlyList<string> HeldOut { get; init; } = ["purple triangle", "green star", "orange cross", "blue diamond"];
    /// <summary>
    /// Train on scenes and their shape twins (<see cref="SceneGenerator.GenerateShapeTwin"/>), drawn into the same
    /// batch: half the pairs are scene i, half its twin, so the number of training pairs is unchanged.
    /// </summary>
    public bool ShapeTwins { get; init; }
    /// <summary>Context length of the caption tokenizer.</summary>
    public int ContextLength { get; init; } = 16;
    /// <summary>Seed of scenes, initialisation and batch order.</summary>
    public long Seed { get; init; }
    /// <summary>Optimisation.</summary>
    public ClipTrainingOptions Training { get; init; } = new();
}

/// <summary>What the scene experiment measured.</summary>
/// <param name="Scorer">The trained model with its tokenizer.</param>
/// <param name="Losses">Training loss per step.</param>
/// <param name="ZeroShotHeldOut">Zero-shot over all "colour shape" classes, on images of held-out combinations.</param>
/// <param name="ZeroShotSeen">Zero-shot on new images of combinations seen in training.</param>
/// <param name="ProbeHeldOutTop1">Linear probe (trained with labels of every class) on the held-out images.</param>
/// <param name="ProbeSeenTop1">Linear probe on the seen-combination images.</param>
/// <param name="Chance">1 / number of classes.</param>
/// <param name="HeldOutClasses">Names of the held-out classes.</param>
/// <param name="TrainSeconds">Wall time of training.</param>
/// <param name="ZeroShotHeldOutAmongHeldOut">Zero-shot on the held-out images choosing only among the held-out names (chance 1 / their number).</param>
public sealed record ClipSceneResult(ClipScorer Scorer, IReadOnlyList<double> Losses, ClassificationResult ZeroShotHeldOut, ClassificationResult ZeroShotSeen,
    double ProbeHeldOutTop1, double ProbeSeenTop1, double Chance, IReadOnlyList<string> HeldOutClasses, double TrainSeconds,
    ClassificationResult ZeroShotHeldOutAmongHeldOut);

/// <summary>
/// Compositional zero-shot on procedural scenes: train a tiny CLIP on scenes whose captions come from the
/// scene grammar, with some colour-shape combinations never shown, then classify images of those combinations
/// among all colour-shape classes from prompts alone. The linear probe, which is given labelled examples of
/// every class, is the supervised reference; chance is 1/36.
/// </summary>
public static class ClipSceneExperiment
{
    /// <summary>The test images start here, far from the training indices, so no scene is shared.</summary>
    public const long TestStart = 1_000_000;

    /// <summary>About <paramref name="count"/> training scenes laid out as scene, its shape twin, scene, twin ... (an even count).</summary>
    public static List<Scene> TwinScenes(SceneGenerator generator, int count)
    {
        var scenes = new List<Scene>(count);
        for (long i = 0; scenes.Count + 1 < count; i++)
            if (generator.GenerateShapeTwin(i) is { } twin)
            {
                scenes.Add(generator.Generate(i));
                scenes.Add(twin);
            }
        return scenes;
    }

    /// <summary>Runs the experiment; <paramref name="onStep"/> sees every training step.</summary>
    public static ClipSceneResult Run(ClipSceneOptions o, Action<ClipStepReport>? onStep = null, CancellationToken cancellation = default)
    {
        var heldOut = HeldOutCombinations.Parse(o.HeldOut);
        var sceneOptions = new SceneOptions { ImageSize = o.ImageSize, MinObjects = 1, MaxObjects = 1, HeldOut = heldOut };
        var generator = new SceneGenerator(sceneOptions, o.Seed);
        var train = o.ShapeTwins ? TwinScenes(generator, o.TrainScenes) : generator.GenerateMany(o.TrainScenes, SceneSplit.Train).ToList();

        // The vocabulary covers the grammar's captions and the prompt templates, so prompts have no unknown words.
        var labelNames = generator.ToLabeledSet(1).ClassNames;
        var vocabularyTexts = train.Select(s => s.Caption).Concat(labelNames.SelectMany(n => PromptTemplates.Fill(PromptTemplates.Scenes, n)));
        var tokenizer = CaptionWordTokenizer.Build(vocabularyTexts, o.ContextLength);
        var config = ClipConfig.Tiny(tokenizer.VocabSize, o.ContextLength, o.ImageSize, o.PatchSize, o.Width, o.Layers, o.Heads, o.ProjectionDim, o.Tower);
        var model = new ClipModel(config, o.Seed);
        var scorer = new ClipScorer(model, tokenizer);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var losses = ClipTraining.Train(scorer, train.Select(s => s.Image).ToList(), train.Select(s => s.Caption).ToList(),
            o.Training with { Seed = o.Seed, GroupSize = o.ShapeTwins ? 2 : 1 }, onStep, cancellation);
        var seconds = clock.Elapsed.TotalSeconds;

        var seenTest = generator.ToLabeledSet(o.TestScenes, SceneSplit.Train, start: TestStart);
        var heldTest = generator.ToLabeledSet(o.TestScenes, SceneSplit.HeldOut, start: TestStart);
        using var zeroShot = new ZeroShotClassifier(scorer, seenTest.ClassNames, PromptTemplates.Scenes);
        using var scope = NewDisposeScope();
        var seenEmb = scorer.EmbedImages(seenTest.Images);
        var heldEmb = scorer.EmbedImages(heldTest.Images);
        var zsSeen = zeroShot.Evaluate(seenEmb, seenTest.Labels);
        var zsHeld = zeroShot.Evaluate(heldEmb, heldTest.Labels);

        // The probe's training images: fresh scenes of both splits, about as many per held-out class as per seen
        // class, so the probe has no prior towards the few held-out classes.
        var classes = seenTest.ClassNames.Count;
        var heldCount = heldOut.Combinations.Count;
        var probeSeen = generator.ToLabeledSet(Math.Max(2 * o.TestScenes, 20 * classes), SceneSplit.Train, start: 2 * TestStart);
        var probeHeld = generator.ToLabeledSet(Math.Max(heldCount, probeSeen.Count * heldCount / Math.Max(1, classes - heldCount)), SceneSplit.HeldOut, start: 2 * TestStart);
        var probeFeatures = cat([scorer.EmbedImages(probeSeen.Images), scorer.EmbedImages(probeHeld.Images)], 0);
        using var probe = LinearProbe.Fit(probeFeatures, probeSeen.Labels.Concat(probeHeld.Labels).ToList(), seenTest.ClassNames.Count, seed: o.Seed);
        var probeSeenTop1 = ClassificationResult.FromLogits(probe.Logits(seenEmb), seenTest.Labels, seenTest.ClassNames).Top1;
        var probeHeldTop1 = ClassificationResult.FromLogits(probe.Logits(heldEmb), heldTest.Labels, heldTest.ClassNames).Top1;

        var heldIndex = heldTest.Labels.Distinct().Order().ToList();
        var heldClasses = heldIndex.Select(l => heldTest.ClassNames[l]).ToList();
        using var heldOnly = new ZeroShotClassifier(scorer, heldClasses, PromptTemplates.Scenes);
        var zsAmongHeld = heldOnly.Evaluate(heldEmb, heldTest.Labels.Select(l => heldIndex.IndexOf(l)).ToList());
        return new ClipSceneResult(scorer, losses, zsHeld, zsSeen, probeHeldTop1, probeSeenTop1, 1.0 / seenTest.ClassNames.Count, heldClasses, seconds, zsAmongHeld);
    }
}

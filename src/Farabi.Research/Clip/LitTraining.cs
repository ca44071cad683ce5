using System.Diagnostics;
using Farabi.Models.Clip;
using Farabi.Training;
using static TorchSharp.torch;

namespace Farabi.Research.Clip;

/// <summary>
/// Contrastive training of a <see cref="LitModel"/> on precomputed frozen features: the same symmetric InfoNCE,
/// AdamW, warm-up and cosine decay and temperature clamp as <see cref="ClipTraining"/>, but each step costs two
/// small matrix products, since the towers ran once before training.
/// </summary>
public static class LitTraining
{
    /// <summary>
    /// Trains on pairs (<paramref name="imageFeatures"/>[i], <paramref name="textFeatures"/>[i]); the feature
    /// tensors are constants (no gradient reaches them). Fits the model's standardisation first. Returns the loss of every step.
    /// </summary>
    public static List<double> Train(LitModel model, Tensor imageFeatures, Tensor textFeatures, ClipTrainingOptions options,
        Action<ClipStepReport>? onStep = null, CancellationToken cancellation = default)
    {
        var n = imageFeatures.shape[0];
        if (textFeatures.shape[0] != n) throw new ArgumentException($"{n} image feature rows but {textFeatures.shape[0]} text feature rows.");
        if (n < 2) throw new ArgumentException("contrastive training needs at least two pairs.");
        using var images = imageFeatures.detach();
        using var texts = textFeatures.detach();
        model.FitStandardisation(images, texts);
        // Decay the projection matrices only, not biases or the temperature (as CLIP).
        var parameters = model.named_parameters().Select(p => (p.name, p.parameter, p.name != "logit_scale" && !p.name.EndsWith(".bias"))).ToList();
        using var optimizer = new AdamW(parameters, 0.9, 0.98, 1e-6, options.WeightDecay);
        var rng = new Random((int)options.Seed);
        var batch = (int)Math.Min(options.BatchSize, n);
        var losses = new List<double>(options.Steps);
        var clock = Stopwatch.StartNew();
        model.train();
        for (var step = 0; step < options.Steps && !cancellation.IsCancellationRequested; step++)
        {
            using var scope = NewDisposeScope();
            var chosen = new HashSet<long>();
            while (chosen.Count < batch) chosen.Add(rng.NextInt64(n));
            var index = tensor(chosen.ToArray());
            var lr = ClipTraining.LearningRateAt(step, options);
            using var output = model.Forward(images.index_select(0, index), texts.index_select(0, index));
            var value = ClipTraining.OptimiseStep(output.LogitsPerImage, model.parameters(), model.logit_scale, optimizer, lr, options.GradClip);
            losses.Add(value);
            onStep?.Invoke(new ClipStepReport(step + 1, value, lr, Math.Exp(model.logit_scale.item<float>()), clock.Elapsed.TotalSeconds));
        }
        model.eval();
        return losses;
    }
}

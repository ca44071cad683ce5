using System.Diagnostics;
using Farabi.Models.Clip;
using Farabi.Training;
using Farabi.Vision;
using static TorchSharp.torch;

namespace Farabi.Research.Clip;

/// <summary>Hyper-parameters of contrastive training.</summary>
public sealed record ClipTrainingOptions
{
    /// <summary>Optimiser steps.</summary>
    public int Steps { get; init; } = 600;
    /// <summary>Image-caption pairs per batch (the number of negatives each pair sees, plus one).</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Linear warm-up steps before the cosine decay.</summary>
    public int WarmupSteps { get; init; } = 50;
    /// <summary>Decoupled weight decay on matrices (CLIP used 0.2).</summary>
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>Global gradient-norm clip.</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>
    /// Pairs come in groups of this many consecutive indices that are always drawn into a batch together (1: each
    /// pair on its own). With 2 and data laid out as scene, twin, scene, twin ... every batch holds each pair's
    /// hard negative.
    /// </summary>
    public int GroupSize { get; init; } = 1;
    /// <summary>Seed for batch order.</summary>
    public long Seed { get; init; }
}

/// <summary>One optimiser step.</summary>
public sealed record ClipStepReport(int Step, double Loss, double LearningRate, double LogitScale, double Seconds);

/// <summary>
/// Contrastive training of a <see cref="ClipModel"/> on image-caption pairs held in memory: each step draws a
/// random batch and minimises CLIP's symmetric InfoNCE loss with AdamW, warm-up and cosine decay.
/// </summary>
public static class ClipTraining
{
    /// <summary>Learning rate at <paramref name="step"/>: linear warm-up, then cosine decay to 10%.</summary>
    public static double LearningRateAt(int step, ClipTrainingOptions o)
    {
        if (step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        var progress = Math.Min(1.0, (double)(step - o.WarmupSteps) / Math.Max(1, o.Steps - o.WarmupSteps));
        return o.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>
    /// Trains <paramref name="scorer"/>'s model on (<paramref name="images"/>[i], <paramref name="captions"/>[i]).
    /// Returns the loss of every step.
    /// </summary>
    public static List<double> Train(ClipScorer scorer, IReadOnlyList<RgbImage> images, IReadOnlyList<string> captions, ClipTrainingOptions options,
        Action<ClipStepReport>? onStep = null, CancellationToken cancellation = default)
    {
        if (images.Count != captions.Count) throw new ArgumentException($"{images.Count} images but {captions.Count} captions.");
        if (images.Count < 2) throw new ArgumentException("contrastive training needs at least two pairs.");
        var model = scorer.Model;
        using var pixels = scorer.Pixels(images);
        using var ids = scorer.Ids(captions);
        var embeddings = AdamW.EmbeddingWeightNames(model);
        // Decay matrices only: not norms, biases, embeddings, the class token or the temperature (as CLIP).
        var parameters = model.named_parameters().Select(p => (p.name, p.parameter,
            AdamW.IsDecayed(p.name, p.parameter, embeddings) && !p.name.Contains("patch_embedding"))).ToList();
        using var optimizer = new AdamW(parameters, 0.9, 0.98, 1e-6, options.WeightDecay);
        var rng = new Random((int)options.Seed);
        if (options.GroupSize < 1 || images.Count % options.GroupSize != 0)
            throw new ArgumentException($"{images.Count} pairs do not split into groups of {options.GroupSize}.");
        var group = options.GroupSize;
        var groups = images.Count / group;
        var batch = Math.Min(options.BatchSize / group, groups) * group;
        if (batch < 2) throw new ArgumentException($"a batch of {options.BatchSize} holds fewer than two pairs in groups of {group}.");
        var losses = new List<double>(options.Steps);
        var clock = Stopwatch.StartNew();
        model.train();
        for (var step = 0; step < options.Steps && !cancellation.IsCancellationRequested; step++)
        {
            using var scope = NewDisposeScope();
            // Sample without replacement within a batch: a repeated pair would be its own negative.
            var chosen = new HashSet<long>();
            while (chosen.Count < batch / group) chosen.Add(rng.Next(groups));
            var index = tensor(chosen.SelectMany(g => Enumerable.Range(0, group).Select(k => g * group + k)).ToArray());
            var lr = LearningRateAt(step, options);
            using var output = model.Forward(pixels.index_select(0, index), ids.index_select(0, index));
            var value = OptimiseStep(output.LogitsPerImage, model.parameters(), model.logit_scale, optimizer, lr, options.GradClip);
            losses.Add(value);
            onStep?.Invoke(new ClipStepReport(step + 1, value, lr, Math.Exp(model.logit_scale.item<float>()), clock.Elapsed.TotalSeconds));
        }
        model.eval();
        return losses;
    }

    /// <summary>
    /// One update from a batch's image-to-text logits, shared by CLIP and LiT: symmetric InfoNCE, backward, global
    /// gradient clipping, AdamW at <paramref name="lr"/>, then the log temperature clamped so exp(scale) ≤ 100.
    /// Returns the loss.
    /// </summary>
    internal static float OptimiseStep(Tensor logitsPerImage, IEnumerable<TorchSharp.Modules.Parameter> parameters, TorchSharp.Modules.Parameter logitScale, AdamW optimizer, double lr, double gradClip)
    {
        var loss = ClipModel.ContrastiveLoss(logitsPerImage);
        optimizer.ZeroGrad();
        loss.backward();
        GradientClipping.ClipGlobalNorm(parameters.Select(p => (Tensor)p), gradClip);
        optimizer.Step(lr);
        using (no_grad()) logitScale.clamp_(0, Math.Log(ClipModel.MaxLogitScale));
        return loss.item<float>();
    }
}

using System.Globalization;
using Farabi.Lora;
using Farabi.Models;

namespace Farabi.Research.FineTuning;

/// <summary>How a member of the fine-tuning family trains.</summary>
public enum FineTuningKind
{
    /// <summary>Only the classification head (the last layer) trains; the body is a frozen feature extractor.</summary>
    Head,
    /// <summary>
    /// LoRA adapters (Hu et al. 2021) on every linear layer of the body and on the token embedding, plus the head.
    /// The embedding matters: with it frozen (PEFT's all-linear alone) LoRA, and even every linear weight trained in
    /// full, stayed near 65% on the synthetic task that full fine-tuning solves (FineTuning README).
    /// </summary>
    Lora,
    /// <summary>DoRA: LoRA with a trained magnitude per output (Liu et al. 2024) on every linear layer, plus the head (no embedding adapter).</summary>
    Dora,
    /// <summary>Every weight trains.</summary>
    Full,
    /// <summary>
    /// A control for LoRA: exactly the weight matrices LoRA adapts (every linear layer of the body) and the head train
    /// in full, with no low-rank factorisation; embeddings, layer norms and biases stay frozen as under LoRA. It splits
    /// the gap between LoRA and full fine-tuning into what the rank (and factorised training) costs and what the
    /// untouched embeddings, norms and biases cost.
    /// </summary>
    LinearWeights,
}

/// <summary>One method of the comparison: its kind, LoRA rank and alpha (when it has them) and learning rate.</summary>
/// <param name="Name">The <c>method</c> field of results.json: <c>head</c>, <c>lora_r4</c>, <c>dora_r4</c>, <c>full</c>
/// (with <c>@lr</c> appended when the rate was given in the name).</param>
/// <param name="Kind">What trains.</param>
/// <param name="Rank">LoRA rank r (0 for head and full).</param>
/// <param name="LearningRate">Peak AdamW learning rate.</param>
/// <param name="LoraAlpha">LoRA alpha; the update is scaled by alpha / r.</param>
/// <param name="AdaptEmbedding">Also adapt the token embedding (<c>wte</c>): a LoRA embedding adapter for LoRA, the
/// whole embedding for <see cref="FineTuningKind.LinearWeights"/>. On by default for both; <c>-emb</c> at the end of the
/// name turns it off (<c>lora_r4-emb</c>: PEFT's all-linear alone). DoRA never adapts it (Farabi's DoRA is for linear layers).</param>
public sealed record FineTuningMethod(string Name, FineTuningKind Kind, int Rank, double LearningRate, double LoraAlpha = FineTuningMethod.DefaultLoraAlpha,
    bool AdaptEmbedding = false)
{
    /// <summary>
    /// Full fine-tuning moves every pretrained weight, so it takes the smallest step: a quarter of the rate the base
    /// was pretrained with (2e-3), in the range BERT/GPT fine-tuning uses relative to pretraining.
    /// </summary>
    public const double DefaultFullLearningRate = 5e-4;

    /// <summary>
    /// LoRA and DoRA take ten times the full fine-tuning rate. The adapter update s·B·A starts at zero and B·A has only
    /// r directions, so a step moves the weight far less than a full step at the same rate; common LoRA practice runs
    /// adapters at roughly ten times the full fine-tuning rate (the LoRA paper's GPT-2 E2E runs use 2e-4). The
    /// calibration in the FineTuning README (synthetic task: full best at 5e-4, LoRA at 5e-3) agrees.
    /// </summary>
    public const double DefaultLoraLearningRate = 5e-3;

    /// <summary>A lone linear head on frozen features is a convex problem that tolerates, and needs, a large step.</summary>
    public const double DefaultHeadLearningRate = 1e-2;

    /// <summary>
    /// alpha is fixed across ranks (the LoRA paper, section 4.1: "we simply set alpha to the first r we try and do not
    /// tune it"), so the scale alpha / r shrinks as r grows. With Adam each column of B moves about lr per step
    /// whatever r is, and the useful part of B·A adds up over the r columns, so the update's size grows with r;
    /// dividing by r keeps the effective step, and hence the best learning rate, roughly the same at every rank.
    /// (alpha = 2r, used before, made rank 16 take four times the step of rank 4.) 8 is PEFT's default lora_alpha,
    /// and equals 2r at r = 4.
    /// </summary>
    public const double DefaultLoraAlpha = 8;

    /// <summary>The scale s of the LoRA update s·B·A (0 for head and full).</summary>
    public double Scaling => Rank > 0 ? LoraAlpha / Rank : 0;

    /// <summary>The family the issue asks for: head, LoRA r = 1, 4, 16, DoRA r = 4 and full, smallest first, each at its own default rate.</summary>
    public static IReadOnlyList<FineTuningMethod> Family(double fullLearningRate = DefaultFullLearningRate, double adapterLearningRate = DefaultLoraLearningRate,
        double headLearningRate = DefaultHeadLearningRate, double loraAlpha = DefaultLoraAlpha) =>
        [.. new[] { "head", "lora_r1", "lora_r4", "lora_r16", "dora_r4", "full" }.Select(n => Parse(n, fullLearningRate, adapterLearningRate, headLearningRate, loraAlpha))];

    /// <summary>
    /// Parses a method name (<c>head</c>, <c>full</c>, <c>lora_rN</c>, <c>dora_rN</c>) with the given rates; a name may
    /// carry its own rate after <c>@</c> (<c>lora_r4@2e-3</c>), which is how a learning-rate sweep runs in one process.
    /// </summary>
    /// <exception cref="ArgumentException">The name is none of those, or its rate is not a positive number.</exception>
    public static FineTuningMethod Parse(string name, double fullLearningRate = DefaultFullLearningRate, double adapterLearningRate = DefaultLoraLearningRate,
        double headLearningRate = DefaultHeadLearningRate, double loraAlpha = DefaultLoraAlpha)
    {
        var at = name.IndexOf('@');
        double? own = null;
        if (at >= 0)
        {
            if (!double.TryParse(name[(at + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var lr) || !(lr > 0) || double.IsInfinity(lr))
                throw new ArgumentException($"Fine-tuning method '{name}' has a learning rate after '@' that is not a positive number.");
            own = lr;
        }
        var bare = at >= 0 ? name[..at] : name;
        var withoutEmbedding = bare.EndsWith("-emb", StringComparison.Ordinal);
        if (withoutEmbedding) bare = bare[..^"-emb".Length];
        if (bare == "head" && !withoutEmbedding) return new(name, FineTuningKind.Head, 0, own ?? headLearningRate, loraAlpha);
        if (bare == "full" && !withoutEmbedding) return new(name, FineTuningKind.Full, 0, own ?? fullLearningRate, loraAlpha);
        if (bare == "linear") return new(name, FineTuningKind.LinearWeights, 0, own ?? fullLearningRate, loraAlpha, !withoutEmbedding);
        foreach (var (prefix, kind) in new[] { ("lora_r", FineTuningKind.Lora), ("dora_r", FineTuningKind.Dora) })
            if (bare.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(bare[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r > 0)
                return new(name, kind, r, own ?? adapterLearningRate, loraAlpha, kind == FineTuningKind.Lora && !withoutEmbedding);
        throw new ArgumentException($"Fine-tuning method '{name}' is not head, full, linear, lora_rN or dora_rN (optionally with -emb, then @learning-rate).");
    }
}

/// <summary>What one method measured: the row of results.json.</summary>
/// <param name="Method">The method's name.</param>
/// <param name="TrainableParameters">Values the optimizer updates.</param>
/// <param name="TotalParameters">All values of the model, adapters included.</param>
/// <param name="Accuracy">Accuracy on the evaluation set after the last step.</param>
/// <param name="StepMs">Median wall time of a training step (forward, backward, update), evaluation excluded.</param>
/// <param name="PeakMb">Peak resident memory of the whole process while this method trained (Linux: VmHWM reset before
/// it), MB. It includes everything the methods share (runtime, libtorch, the pretrained model, the data), so it barely
/// differs between methods; <paramref name="PeakAboveStartMb"/> is the figure that tells them apart.</param>
/// <param name="PeakAboveStartMb">How far resident memory rose while this method set up and trained, above its size
/// at the method's start (after garbage collection and heap trimming): gradients, AdamW moments, the activations kept
/// for backward, adapters, MB.</param>
/// <param name="GradientOptimizerMb">Exact bytes the optimizer needs for the trainable parameters: a gradient and
/// AdamW's two moments, 3 × 4 bytes per trainable value, MB.</param>
/// <param name="TrainingStateMb">All weights (frozen too) + gradients + AdamW moments, 4 bytes each, MB.</param>
/// <param name="LearningRate">The method's peak learning rate.</param>
/// <param name="FinalLoss">Training loss of the last step.</param>
public sealed record FineTuningResult(string Method, long TrainableParameters, long TotalParameters, double Accuracy, double StepMs, double PeakMb,
    double PeakAboveStartMb, double GradientOptimizerMb, double TrainingStateMb, double LearningRate, double FinalLoss);

/// <summary>
/// The fine-tuning family on one pretrained model and one classification task: full fine-tuning, the last layer
/// only, LoRA at several ranks and DoRA, all from the same weights, on the same data in the same order, for the
/// same number of steps. Reports what each trains, costs and reaches.
/// </summary>
public static class FineTuningComparison
{
    /// <summary>
    /// Trains and evaluates every method of <paramref name="methods"/> on a fresh copy of <paramref name="pretrained"/>,
    /// each with 5% warm-up and linear decay of its own peak rate (<see cref="FineTuneOptions.WithWarmupAndDecay"/>);
    /// <paramref name="onStep"/> sees every step of every method.
    /// </summary>
    public static List<FineTuningResult> Run(PretrainedBase pretrained, IReadOnlyList<TextExample> train, IReadOnlyList<TextExample> eval,
        IReadOnlyList<FineTuningMethod> methods, int steps, int batchSize, long seed, Action<FineTuningMethod, FineTuneStep>? onStep = null)
    {
        var numLabels = Math.Max(train.Max(e => e.Label), eval.Count == 0 ? 0 : eval.Max(e => e.Label)) + 1;
        if (numLabels < 2) throw new ArgumentException("The training set has a single label; classification needs two or more.");
        var trainIds = pretrained.Encode(train);
        var evalIds = pretrained.Encode(eval);
        var results = new List<FineTuningResult>();
        foreach (var method in methods)
        {
            using var model = pretrained.NewClassifier(numLabels);
            results.Add(Train(model, method, trainIds, evalIds, new FineTuneOptions(steps, batchSize, method.LearningRate, 0, seed, EvalEvery: 0).WithWarmupAndDecay(), step => onStep?.Invoke(method, step)));
        }
        return results;
    }

    /// <summary>Makes only the parameters <paramref name="method"/> trains require gradients (injecting adapters where it uses them).</summary>
    public static void Prepare(SequenceClassificationModel model, FineTuningMethod method, long seed)
    {
        switch (method.Kind)
        {
            case FineTuningKind.Head:
                foreach (var (name, p) in model.named_parameters()) p.requires_grad = name.StartsWith("score.", StringComparison.Ordinal);
                break;
            case FineTuningKind.Lora or FineTuningKind.Dora:
                // Every linear layer of the body (PEFT's all-linear) and the head trained in full (modules_to_save); no
                // adapter dropout: the runs are short (about one epoch) and dropout would only slow them. alpha is fixed
                // across ranks (see FineTuningMethod.DefaultLoraAlpha).
                var dora = method.Kind == FineTuningKind.Dora;
                if (method.AdaptEmbedding)
                {
                    // all-linear cannot be combined with names, so the linear layers are named; the embedding gets a LoRA
                    // embedding adapter (PEFT's lora.Embedding: A zero, B normal).
                    LoraModel.Inject(model, new LoraConfig
                    {
                        R = method.Rank, LoraAlpha = method.LoraAlpha, TargetModules = [.. LinearLeafNames(model), EmbeddingLeaf], UseDora = dora,
                        ModulesToSave = ["score"], TaskType = "SEQ_CLS",
                    }, seed: seed);
                }
                else
                    LoraModel.Inject(model, new LoraConfig
                    {
                        R = method.Rank, LoraAlpha = method.LoraAlpha, LoraDropout = 0, TargetModules = [LoraConfig.AllLinear], UseDora = dora,
                        ModulesToSave = ["score"], TaskType = "SEQ_CLS",
                    }, seed: seed);
                break;
            case FineTuningKind.Full:
                foreach (var p in model.parameters()) p.requires_grad = true;
                break;
            case FineTuningKind.LinearWeights:
                foreach (var p in model.parameters()) p.requires_grad = false;
                foreach (var (_, m) in model.named_modules())
                {
                    if (m is TorchSharp.Modules.Linear l) l.weight!.requires_grad = true;
                    else if (m is Farabi.Layers.Conv1D c) c.weight.requires_grad = true;
                }
                if (method.AdaptEmbedding)
                    foreach (var (name, p) in model.named_parameters())
                        if (name.EndsWith("." + EmbeddingLeaf + ".weight", StringComparison.Ordinal)) p.requires_grad = true;
                break;
        }
    }

    /// <summary>GPT-2's token embedding, the one <see cref="FineTuningMethod.AdaptEmbedding"/> adapts.</summary>
    const string EmbeddingLeaf = "wte";

    /// <summary>The leaf names of the body's linear layers (what PEFT's all-linear expands to): the head excluded.</summary>
    static string[] LinearLeafNames(SequenceClassificationModel model) =>
        [.. model.named_modules().Where(m => m.module is TorchSharp.Modules.Linear or Farabi.Layers.Conv1D).Select(m => m.name.Split('.')[^1])
            .Where(n => n != "score").Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Trains <paramref name="model"/> with <paramref name="method"/> and measures it.</summary>
    public static FineTuningResult Train(SequenceClassificationModel model, FineTuningMethod method, IReadOnlyList<LabelledIds> train,
        IReadOnlyList<LabelledIds> eval, FineTuneOptions options, Action<FineTuneStep>? onStep = null)
    {
        // The window opens before the adapters are made, so that they count as what the method adds.
        var memory = ProcessMemory.StartWindow();
        Prepare(model, method, options.Seed);
        var trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        var total = model.parameters().Sum(p => p.numel());
        var stepMs = new List<double>();
        double accuracy = double.NaN, loss = double.NaN;
        foreach (var step in LoraFineTuner.TrainClassifier(model, train, eval, options))
        {
            stepMs.Add(step.StepMs);
            loss = step.Loss;
            if (step.EvalAccuracy is { } a) accuracy = a;
            onStep?.Invoke(step);
        }
        var (peak, added) = (memory.PeakMb, memory.PeakAboveStartMb);
        // The first step pays for allocations and lazy initialisation: leave it out when there are others.
        var timed = stepMs.Count > 1 ? stepMs.Skip(1).ToList() : stepMs;
        var median = timed.Order().ElementAt(timed.Count / 2);
        const double mb = 1048576;
        return new FineTuningResult(method.Name, trainable, total, accuracy, median, peak, added, 3.0 * trainable * 4 / mb, (total + 3.0 * trainable) * 4 / mb,
            options.LearningRate, loss);
    }
}

// The training loop of nanoGPT's train.py, as a class: random windows of a token file, AdamW with decoupled
// weight decay, warm-up + cosine learning rate, gradient accumulation, clipping, periodic evaluation on fixed
// batches, best/latest checkpoints, and an exact resume (optimizer moments, step, data and dropout RNG state).
using System.Diagnostics;
using System.Text.Json.Nodes;
using Farabi.Data;
using Farabi.Models;
using static TorchSharp.torch;

namespace Farabi.Training;

/// <summary>What one optimizer step did.</summary>
/// <param name="Step">Steps completed, this one included.</param>
/// <param name="Loss">Mean training loss over the step's micro-batches.</param>
/// <param name="LearningRate">The learning rate used.</param>
/// <param name="GradNorm">The global gradient norm before clipping.</param>
/// <param name="Seconds">Wall time of the step.</param>
/// <param name="TokensPerSecond">Training tokens processed per second in this step.</param>
/// <param name="Mfu">Model FLOPs utilisation of this step against the measured matmul peak.</param>
public sealed record StepReport(int Step, double Loss, double LearningRate, double GradNorm, double Seconds, double TokensPerSecond, double Mfu);

/// <summary>An evaluation: mean losses over the fixed evaluation batches.</summary>
/// <param name="Step">Steps completed when it ran.</param>
/// <param name="TrainLoss">Mean loss on training windows.</param>
/// <param name="ValLoss">Mean loss on validation windows; null without validation data.</param>
/// <param name="IsBest">Whether this is the lowest validation (else training) loss so far.</param>
public sealed record EvalReport(int Step, double TrainLoss, double? ValLoss, bool IsBest)
{
    /// <summary>The loss best-checkpoint tracking compares: validation when there is some, else training.</summary>
    public double TrackedLoss => ValLoss ?? TrainLoss;
}

/// <summary>How a <see cref="Trainer.Run"/> ended.</summary>
/// <param name="Steps">Steps completed.</param>
/// <param name="LastEval">The final evaluation (null if none ran).</param>
/// <param name="BestLoss">The best tracked loss (validation, else training).</param>
/// <param name="BestStep">The step of <paramref name="BestLoss"/>.</param>
/// <param name="TrainSeconds">Wall time spent in training steps (evaluation and checkpoints excluded).</param>
/// <param name="TokensPerSecond">Training tokens per second over the run's steps.</param>
/// <param name="Mfu">Mean model FLOPs utilisation over the run's steps.</param>
/// <param name="Cancelled">Whether it stopped early on request.</param>
public sealed record TrainingSummary(int Steps, EvalReport? LastEval, double BestLoss, int BestStep, double TrainSeconds, double TokensPerSecond, double Mfu, bool Cancelled);

/// <summary>
/// Trains a <see cref="CausalLanguageModel"/> on token files. Create one with <see cref="Trainer(CausalLanguageModel, TrainerOptions, TokenFile, TokenFile?, JsonObject?)"/>
/// or continue a checkpoint with <see cref="Resume"/>; call <see cref="Run"/>, or <see cref="TrainStep"/> and
/// <see cref="Evaluate"/> yourself.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>Folder names under a run's checkpoint root.</summary>
    public const string LatestName = "latest", BestName = "best";

    readonly TokenFile train;
    readonly TokenFile? val;
    readonly double flopsPerToken;
    double trainSeconds;
    long tokensThisRun;
    double mfuSum;
    int stepsThisRun;

    /// <summary>
    /// A trainer for <paramref name="model"/> (put in training mode) on <paramref name="train"/>, evaluating on
    /// <paramref name="val"/> when given. Seeds torch's global generator (dropout) with the options' seed.
    /// <paramref name="tokenizer"/> (the token files' tokenizer description) is saved with checkpoints so that
    /// evaluation and sampling can turn text into ids later.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid, or the data do not fit the model.</exception>
    public Trainer(CausalLanguageModel model, TrainerOptions options, TokenFile train, TokenFile? val = null, JsonObject? tokenizer = null)
    {
        Options = options.Validate();
        Model = model;
        this.train = train;
        this.val = val;
        Tokenizer = tokenizer ?? train.Info.Tokenizer;
        ContextLength = options.ContextLength ?? model.ContextLength;
        if (ContextLength > model.ContextLength)
            throw new ArgumentException($"The training context {ContextLength} exceeds the model's context length {model.ContextLength}.");
        foreach (var data in new[] { train, val })
            if (data != null && data.VocabSize > model.VocabSize)
                throw new ArgumentException($"Token file '{data.Path}' has a vocabulary of {data.VocabSize}, more than the model's {model.VocabSize}.");
        Sampler = new RandomWindowSampler(train, ContextLength, (ulong)options.Seed);
        if (val != null && val.Count < ContextLength + 1)
            throw new ArgumentException($"Validation file '{val.Path}' has {val.Count} tokens; context {ContextLength} needs at least {ContextLength + 1}.");
        manual_seed(options.Seed);
        Optimizer = AdamW.ForModel(model, options);
        flopsPerToken = model.TrainingFlopsPerToken(ContextLength);
        model.train();
    }

    /// <summary>The model being trained.</summary>
    public CausalLanguageModel Model { get; }
    /// <summary>The run's options.</summary>
    public TrainerOptions Options { get; private set; }
    /// <summary>The optimizer, with its moments.</summary>
    public AdamW Optimizer { get; }
    /// <summary>The training batch sampler (its state is the data position).</summary>
    public RandomWindowSampler Sampler { get; }
    /// <summary>The tokenizer description saved with checkpoints.</summary>
    public JsonObject Tokenizer { get; }
    /// <summary>Tokens per training window.</summary>
    public int ContextLength { get; }
    /// <summary>Optimizer steps completed.</summary>
    public int Step { get; private set; }
    /// <summary>The lowest tracked evaluation loss so far (validation, else training); +∞ before any.</summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;
    /// <summary>The step of <see cref="BestLoss"/>.</summary>
    public int BestStep { get; private set; } = -1;
    /// <summary>Training tokens seen since step 0 (resumed runs included).</summary>
    public long TokensSeen { get; private set; }
    /// <summary>Training FLOPs per token (for MFU).</summary>
    public double FlopsPerToken => flopsPerToken;

    /// <summary>Raised after each optimizer step.</summary>
    public event Action<StepReport>? StepCompleted;
    /// <summary>Raised after each evaluation.</summary>
    public event Action<EvalReport>? Evaluated;
    /// <summary>Raised after a checkpoint folder was written (its path).</summary>
    public event Action<string>? CheckpointSaved;

    /// <summary>Tokens per optimizer step: batch × accumulation × context.</summary>
    public long TokensPerStep => (long)Options.BatchSize * Options.GradientAccumulationSteps * ContextLength;

    /// <summary>Replaces options that do not change the meaning of the saved state (e.g. more steps after a resume).</summary>
    public void UpdateOptions(TrainerOptions options) => Options = options.Validate();

    /// <summary>
    /// Draws <see cref="TrainerOptions.GradientAccumulationSteps"/> micro-batches and leaves the summed gradient of
    /// their mean loss in the parameters' <c>.grad</c> (each micro-loss is divided by the number of micro-batches,
    /// so accumulation equals one larger batch). Returns the mean loss. One dispose scope per micro-batch.
    /// </summary>
    public double AccumulateGradients()
    {
        var accumulation = Options.GradientAccumulationSteps;
        var total = 0.0;
        for (var micro = 0; micro < accumulation; micro++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Sampler.NextBatch(Options.BatchSize);
            var loss = Model.Loss(x, y);
            (loss / accumulation).backward();
            total += loss.item<float>();
        }
        return total / accumulation;
    }

    /// <summary>One optimizer step: gradients, clipping, learning rate from the schedule, AdamW update.</summary>
    public StepReport TrainStep()
    {
        var clock = Stopwatch.StartNew();
        Model.train();
        Optimizer.ZeroGrad();
        var loss = AccumulateGradients();
        var parameters = Optimizer.Parameters.Select(p => (Tensor)p.Parameter).ToList();
        var norm = Options.GradClip > 0 ? GradientClipping.ClipGlobalNorm(parameters, Options.GradClip) : GradientClipping.GlobalNorm(parameters);
        var lr = LearningRateSchedule.At(Step, Options);
        Optimizer.Step(lr);
        Optimizer.ZeroGrad();
        Step++;
        var seconds = clock.Elapsed.TotalSeconds;
        var tokens = TokensPerStep;
        TokensSeen += tokens;
        var mfu = ModelFlops.Utilisation(flopsPerToken, tokens, seconds, ModelFlops.MatmulPeakFlops);
        trainSeconds += seconds;
        tokensThisRun += tokens;
        mfuSum += mfu;
        stepsThisRun++;
        var report = new StepReport(Step, loss, lr, norm, seconds, tokens / seconds, mfu);
        StepCompleted?.Invoke(report);
        return report;
    }

    /// <summary>
    /// Mean loss over <see cref="TrainerOptions.EvalIters"/> batches of training and validation windows, in eval mode
    /// without gradients. The windows are the same at every evaluation (a generator seeded from the run's seed, not
    /// the training one), so successive evaluations compare like with like and training batches are not disturbed.
    /// </summary>
    public EvalReport Evaluate()
    {
        var trainLoss = MeanLoss(train, 1);
        double? valLoss = val is null ? null : MeanLoss(val, 2);
        var tracked = valLoss ?? trainLoss;
        var isBest = tracked < BestLoss;
        if (isBest)
        {
            BestLoss = tracked;
            BestStep = Step;
        }
        var report = new EvalReport(Step, trainLoss, valLoss, isBest);
        Evaluated?.Invoke(report);
        return report;
    }

    double MeanLoss(TokenFile data, ulong stream)
    {
        var sampler = new RandomWindowSampler(data, ContextLength, (ulong)Options.Seed * 0x9E3779B97F4A7C15UL + stream);
        var wasTraining = Model.training;
        Model.eval();
        try
        {
            using var _ = no_grad();
            var sum = 0.0;
            for (var i = 0; i < Options.EvalIters; i++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = sampler.NextBatch(Options.BatchSize);
                sum += Model.Loss(x, y).item<float>();
            }
            return sum / Options.EvalIters;
        }
        finally
        {
            if (wasTraining) Model.train();
        }
    }

    /// <summary>
    /// Trains until <see cref="TrainerOptions.MaxSteps"/> or cancellation. Evaluates at the start (when asked and at
    /// step 0), every <see cref="TrainerOptions.EvalInterval"/> steps and at the end; after each evaluation writes
    /// <c>latest</c> (and <c>best</c> when it improved) under <paramref name="checkpointRoot"/> when given. A
    /// cancelled run saves <c>latest</c> before returning, so no step is lost.
    /// </summary>
    public TrainingSummary Run(string? checkpointRoot = null, CancellationToken cancellation = default)
    {
        EvalReport? last = null;
        var savedStep = -1;
        void EvaluateAndSave()
        {
            last = Evaluate();
            if (checkpointRoot == null) return;
            SaveCheckpoint(Path.Combine(checkpointRoot, LatestName));
            if (last.IsBest) SaveCheckpoint(Path.Combine(checkpointRoot, BestName));
            savedStep = Step;
        }
        if (Step == 0 && Options.EvalAtStart && !cancellation.IsCancellationRequested) EvaluateAndSave();
        while (Step < Options.MaxSteps && !cancellation.IsCancellationRequested)
        {
            TrainStep();
            if (Step % Options.EvalInterval == 0 || Step == Options.MaxSteps) EvaluateAndSave();
        }
        if (checkpointRoot != null && savedStep != Step && cancellation.IsCancellationRequested)
            SaveCheckpoint(Path.Combine(checkpointRoot, LatestName));
        return new TrainingSummary(Step, last, BestLoss, BestStep, trainSeconds,
            trainSeconds > 0 ? tokensThisRun / trainSeconds : 0, stepsThisRun > 0 ? mfuSum / stepsThisRun : 0, cancellation.IsCancellationRequested);
    }

    /// <summary>
    /// Writes a checkpoint folder (see <see cref="TrainingCheckpoint"/>): the HF model folder plus the optimizer
    /// moments and the trainer state, replacing <paramref name="directory"/> atomically.
    /// </summary>
    public void SaveCheckpoint(string directory)
    {
        TrainingCheckpoint.Save(directory, this);
        CheckpointSaved?.Invoke(directory);
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/> (a checkpoint folder, or a run folder holding
    /// <c>checkpoints/latest</c>) on the same data: model, optimizer moments, step, data position, dropout RNG and
    /// best loss are restored, so training on gives the parameters an uninterrupted run would have.
    /// <paramref name="options"/>, when given, replaces the saved options (to train further, say); the seed and
    /// batch geometry should stay as saved for an exact continuation.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint is incomplete or corrupt; the message names the file.</exception>
    public static Trainer Resume(string checkpoint, TokenFile train, TokenFile? val = null, TrainerOptions? options = null) =>
        TrainingCheckpoint.Resume(checkpoint, train, val, options);

    internal void RestoreState(int step, double bestLoss, int bestStep, long tokensSeen)
    {
        Step = step;
        BestLoss = bestLoss;
        BestStep = bestStep;
        TokensSeen = tokensSeen;
    }

    /// <summary>Frees the optimizer moments (the model belongs to the caller).</summary>
    public void Dispose() => Optimizer.Dispose();
}

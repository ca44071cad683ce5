using System.Text.Json;
using System.Text.Json.Serialization;

namespace Farabi.Training;

/// <summary>
/// Hyper-parameters of a training run, with nanoGPT's names in spirit and its small-model CPU recipe
/// (<c>config/train_shakespeare_char.py</c>) as defaults. Dropout is part of the model config, not of these.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Number of optimizer steps (nanoGPT <c>max_iters</c>).</summary>
    public int MaxSteps { get; init; } = 2000;
    /// <summary>Windows per micro-batch (nanoGPT <c>batch_size</c>).</summary>
    public int BatchSize { get; init; } = 12;
    /// <summary>Tokens per window; null uses the model's context length (nanoGPT <c>block_size</c>).</summary>
    public int? ContextLength { get; init; }
    /// <summary>Micro-batches whose gradients are summed into one step (nanoGPT <c>gradient_accumulation_steps</c>).</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Peak learning rate, reached at the end of the warm-up.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The learning rate the cosine decays to (about <see cref="LearningRate"/>/10, as Chinchilla advises).</summary>
    public double MinLearningRate { get; init; } = 1e-4;
    /// <summary>Steps of linear warm-up.</summary>
    public int WarmupSteps { get; init; } = 100;
    /// <summary>The step at which the cosine reaches <see cref="MinLearningRate"/>; null means <see cref="MaxSteps"/>.</summary>
    public int? LrDecaySteps { get; init; }
    /// <summary>False keeps the learning rate constant at <see cref="LearningRate"/>.</summary>
    public bool DecayLearningRate { get; init; } = true;
    /// <summary>Decoupled weight decay of AdamW, applied to matrices only (not to norms, biases or embeddings).</summary>
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>AdamW β1.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW β2 (0.99 for small models and few tokens per step, nanoGPT's choice for this recipe).</summary>
    public double Beta2 { get; init; } = 0.99;
    /// <summary>AdamW ε.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Global gradient-norm cap; 0 disables clipping.</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>Evaluate (and checkpoint) every this many steps, and at the end.</summary>
    public int EvalInterval { get; init; } = 250;
    /// <summary>Batches averaged per evaluation.</summary>
    public int EvalIters { get; init; } = 20;
    /// <summary>Evaluate before the first step too, as nanoGPT does (the untrained loss is a sanity check: about ln V).</summary>
    public bool EvalAtStart { get; init; } = true;
    /// <summary>Steps between progress events' loss readings (the loss is read from the tensor only then, which costs a sync).</summary>
    public int LogInterval { get; init; } = 10;
    /// <summary>Seeds the data order and dropout (the model's initialisation is seeded when it is built).</summary>
    public long Seed { get; init; } = 1337;

    /// <summary>The step at which the decay ends.</summary>
    [JsonIgnore] public int DecayEnd => LrDecaySteps ?? MaxSteps;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first impossible value.</summary>
    public TrainerOptions Validate()
    {
        void Check(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Check(MaxSteps >= 0, $"max steps must be ≥ 0, got {MaxSteps}.");
        Check(BatchSize > 0, $"batch size must be positive, got {BatchSize}.");
        Check(ContextLength is null or > 0, $"context length must be positive, got {ContextLength}.");
        Check(GradientAccumulationSteps > 0, $"gradient accumulation steps must be positive, got {GradientAccumulationSteps}.");
        Check(LearningRate > 0 && MinLearningRate >= 0 && MinLearningRate <= LearningRate, $"learning rates must satisfy 0 ≤ min lr ({MinLearningRate}) ≤ lr ({LearningRate}), lr > 0.");
        Check(WarmupSteps >= 0 && DecayEnd >= WarmupSteps, $"warm-up steps ({WarmupSteps}) must be ≥ 0 and ≤ the decay steps ({DecayEnd}).");
        Check(WeightDecay >= 0, $"weight decay must be ≥ 0, got {WeightDecay}.");
        Check(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, $"AdamW betas must be in [0, 1), got {Beta1} and {Beta2}.");
        Check(Epsilon > 0, $"AdamW epsilon must be positive, got {Epsilon}.");
        Check(GradClip >= 0, $"gradient clip must be ≥ 0, got {GradClip}.");
        Check(EvalInterval > 0 && EvalIters > 0, $"eval interval ({EvalInterval}) and eval iters ({EvalIters}) must be positive.");
        Check(LogInterval > 0, $"log interval must be positive, got {LogInterval}.");
        return this;
    }

    /// <summary>Serialisation used in checkpoints and run folders (snake_case names).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Training;

/// <summary>One parameter under <see cref="AdamW"/>: its state-dict name, whether it is decayed, and its moments.</summary>
public sealed class AdamWParameter
{
    internal AdamWParameter(string name, Parameter parameter, bool decay)
    {
        Name = name;
        Parameter = parameter;
        Decay = decay;
        ExpAvg = zeros_like(parameter).DetachFromDisposeScope();
        ExpAvgSq = zeros_like(parameter).DetachFromDisposeScope();
    }

    /// <summary>The parameter's name in the model's state dict.</summary>
    public string Name { get; }
    /// <summary>The tensor being optimised.</summary>
    public Parameter Parameter { get; }
    /// <summary>Whether weight decay applies (matrices of linear layers only).</summary>
    public bool Decay { get; }
    /// <summary>First moment, torch's <c>exp_avg</c>.</summary>
    public Tensor ExpAvg { get; }
    /// <summary>Second moment, torch's <c>exp_avg_sq</c>.</summary>
    public Tensor ExpAvgSq { get; }
}

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter 2019), written out so that its state is plain named
/// tensors a checkpoint can store. Each step does what <c>torch.optim.AdamW</c> (non-amsgrad, non-fused) does:
/// <c>p ← p(1 − lr·λ)</c>, <c>m ← β1 m + (1−β1) g</c>, <c>v ← β2 v + (1−β2) g²</c>,
/// <c>p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)</c>.
/// </summary>
public sealed class AdamW : IDisposable
{
    readonly List<AdamWParameter> parameters;

    /// <summary>Optimises <paramref name="parameters"/>; λ applies to those marked <c>Decay</c>.</summary>
    public AdamW(IEnumerable<(string Name, Parameter Parameter, bool Decay)> parameters, double beta1, double beta2, double epsilon, double weightDecay)
    {
        this.parameters = parameters.Select(p => new AdamWParameter(p.Name, p.Parameter, p.Decay)).ToList();
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>
    /// AdamW over every trainable parameter of <paramref name="model"/>, with weight decay on the weights of linear
    /// layers (≥ 2-D) and none on norms, biases and embeddings (<see cref="IsDecayed"/>).
    /// </summary>
    public static AdamW ForModel(nn.Module model, TrainerOptions options)
    {
        var embeddings = EmbeddingWeightNames(model);
        var named = model.named_parameters().Where(p => p.parameter.requires_grad)
            .Select(p => (p.name, p.parameter, IsDecayed(p.name, p.parameter, embeddings)));
        return new AdamW(named, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
    }

    /// <summary>
    /// Whether a parameter is decayed: matrices yes, vectors (norm gains, biases) no, and embedding tables no
    /// (the issue's rule; nanoGPT decays embeddings too). A head tied to the token embedding is the embedding.
    /// </summary>
    public static bool IsDecayed(string name, Tensor parameter, IReadOnlySet<string> embeddingWeights) =>
        parameter.dim() >= 2 && !embeddingWeights.Contains(name);

    /// <summary>State-dict names of the weights of every <see cref="Embedding"/> in <paramref name="model"/>.</summary>
    public static IReadOnlySet<string> EmbeddingWeightNames(nn.Module model) =>
        model.named_modules().Where(m => m.module is Embedding)
            .Select(m => string.IsNullOrEmpty(m.name) ? "weight" : m.name + ".weight").ToHashSet();

    /// <summary>The optimised parameters with their state, in model order.</summary>
    public IReadOnlyList<AdamWParameter> Parameters => parameters;

    /// <summary>Number of updates applied (torch's per-parameter <c>step</c>, shared here).</summary>
    public long StepCount { get; set; }
    /// <summary>β1.</summary>
    public double Beta1 { get; }
    /// <summary>β2.</summary>
    public double Beta2 { get; }
    /// <summary>ε.</summary>
    public double Epsilon { get; }
    /// <summary>λ, the decoupled weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>Sets every gradient to none (torch's <c>zero_grad(set_to_none=True)</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in parameters)
        {
            var g = p.Parameter.grad;
            if (g is null) continue;
            p.Parameter.grad = null;
            g.Dispose();
        }
    }

    /// <summary>Applies one update with learning rate <paramref name="lr"/> to every parameter that has a gradient.</summary>
    public void Step(double lr)
    {
        StepCount++;
        var biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
        var biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, StepCount));
        var stepSize = lr / biasCorrection1;
        using var _ = no_grad();
        // Explicit scalars held until the method ends: an implicitly converted Scalar is unreachable once its handle is
        // read, so the GC may finalize (free) it while libtorch still reads it, a rare use-after-free that aborts long
        // runs in Scalar::toFloat.
        using Scalar decay = 1 - lr * WeightDecay, beta1 = Beta1, oneMinusBeta1 = 1 - Beta1, beta2 = Beta2, oneMinusBeta2 = 1 - Beta2,
            correction2 = biasCorrection2Sqrt, epsilon = Epsilon, minusStep = -stepSize;
        foreach (var p in parameters)
        {
            using var scope = NewDisposeScope();
            var g = p.Parameter.grad;
            if (g is null) continue;
            if (p.Decay && WeightDecay != 0) p.Parameter.mul_(decay);
            p.ExpAvg.mul_(beta1).add_(g, alpha: oneMinusBeta1);
            p.ExpAvgSq.mul_(beta2).addcmul_(g, g, value: oneMinusBeta2);
            var denom = p.ExpAvgSq.sqrt().div_(correction2).add_(epsilon);
            p.Parameter.addcdiv_(p.ExpAvg, denom, value: minusStep);
        }
    }

    /// <summary>The moments as named tensors: <c>exp_avg/NAME</c> and <c>exp_avg_sq/NAME</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors() => parameters.SelectMany(p => new[]
    {
        KeyValuePair.Create("exp_avg/" + p.Name, p.ExpAvg),
        KeyValuePair.Create("exp_avg_sq/" + p.Name, p.ExpAvgSq),
    });

    /// <summary>Copies moments saved by <see cref="StateTensors"/> back; <paramref name="source"/> names the file in errors.</summary>
    /// <exception cref="InvalidDataException">A moment is missing or has the wrong shape.</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, long stepCount, string source)
    {
        using var _ = no_grad();
        foreach (var p in parameters)
        {
            foreach (var (key, target) in new[] { ("exp_avg/" + p.Name, p.ExpAvg), ("exp_avg_sq/" + p.Name, p.ExpAvgSq) })
            {
                if (!tensors.TryGetValue(key, out var t)) throw new InvalidDataException($"Optimizer state '{source}' has no tensor '{key}'.");
                if (!t.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"Optimizer state '{source}': '{key}' has shape [{string.Join(", ", t.shape)}], the parameter [{string.Join(", ", target.shape)}].");
                target.copy_(t);
            }
        }
        StepCount = stepCount;
    }

    /// <summary>Frees the moments.</summary>
    public void Dispose()
    {
        foreach (var p in parameters)
        {
            p.ExpAvg.Dispose();
            p.ExpAvgSq.Dispose();
        }
    }
}

using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Research.Clip;

/// <summary>
/// The linear-probe baseline of CLIP's evaluation (Radford et al. 2021, §3.2): multinomial logistic regression
/// on frozen image embeddings, fitted with full-batch AdamW and a small L2 penalty (the paper uses L-BFGS; on a
/// convex problem of this size both reach the same optimum).
/// </summary>
public sealed class LinearProbe : IDisposable
{
    /// <summary>Weights <c>[C, D]</c>.</summary>
    public Tensor Weight { get; }
    /// <summary>Biases <c>[C]</c>.</summary>
    public Tensor Bias { get; }

    LinearProbe(Tensor weight, Tensor bias) { Weight = weight; Bias = bias; }

    /// <summary>Fits <paramref name="classes"/>-way logistic regression to <paramref name="features"/> <c>[N, D]</c>.</summary>
    public static LinearProbe Fit(Tensor features, IReadOnlyList<int> labels, int classes, int steps = 300, double learningRate = 0.05, double weightDecay = 1e-4, long seed = 0)
    {
        if (features.shape[0] != labels.Count) throw new ArgumentException($"{features.shape[0]} feature rows but {labels.Count} labels.");
        manual_seed(seed);
        var d = features.shape[1];
        // Standardise so one learning rate suits any embedding scale; the statistics are folded into the weights.
        var mean = features.mean([0], keepdim: true);
        var std = features.std(0, keepdim: true) + 1e-6;
        var x = ((features - mean) / std).detach();
        var y = tensor(labels.Select(l => (long)l).ToArray());
        var w = new TorchSharp.Modules.Parameter(zeros([classes, d]));
        var b = new TorchSharp.Modules.Parameter(zeros([classes]));
        using var optimizer = optim.AdamW([w, b], lr: learningRate, weight_decay: 0);
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = F.cross_entropy(F.linear(x, w, b), y) + weightDecay * w.pow(2).sum();
            loss.backward();
            optimizer.step();
        }
        using (no_grad())
        {
            var weight = (w / std).detach();
            var bias = (b - (mean / std).matmul(w.t()).squeeze(0)).detach();
            return new LinearProbe(weight, bias);
        }
    }

    /// <summary>Class logits <c>[N, C]</c>.</summary>
    public Tensor Logits(Tensor features) => F.linear(features, Weight, Bias);

    /// <inheritdoc/>
    public void Dispose() { Weight.Dispose(); Bias.Dispose(); }
}

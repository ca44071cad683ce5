using TorchSharp;
using static TorchSharp.torch;

namespace Farabi.Research.WeakToStrong;

/// <summary>How the strong student learns from soft labels.</summary>
public enum StudentLoss
{
    /// <summary>Cross-entropy against the soft labels (the naive baseline).</summary>
    Xent,
    /// <summary>
    /// The auxiliary confidence loss of Burns et al.: <c>(1−α)·CE(f, f_w) + α·CE(f, f̂_t)</c>, f̂_t the student's own
    /// predictions hardened at the batch quantile matching the labels' class balance.
    /// </summary>
    AuxConf,
    /// <summary>Cross-entropy against the renormalised product of the student's and the supervisor's distributions.</summary>
    Product,
}

/// <summary>
/// The losses of weak-to-strong training, for two classes. Targets are soft: the supervisor's probability of each class.
/// Checked against the definitions in openai/weak-to-strong <c>weak_to_strong/loss.py</c> (<c>xent_loss</c>,
/// <c>logconf_loss_fn</c>, <c>product_loss_fn</c>), with one deliberate difference: α ramps up linearly over the warm-up
/// (the reference sets α = aux_coef · step_frac during warm-up and then jumps to aux_coef).
/// </summary>
public static class WeakToStrongLoss
{
    /// <summary>The share of training over which α ramps from 0 to its maximum (20%, as the paper's text describes).</summary>
    public const double DefaultWarmupFraction = 0.2;

    /// <summary>The final weight of the confidence term (0.5 for the paper's NLP runs).</summary>
    public const double DefaultAlphaMax = 0.5;

    /// <summary>Parses <c>xent</c>, <c>aux_conf</c> (or <c>logconf</c>) and <c>product</c>.</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static StudentLoss Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "xent" or "ce" => StudentLoss.Xent,
        "aux_conf" or "auxconf" or "logconf" => StudentLoss.AuxConf,
        "product" => StudentLoss.Product,
        _ => throw new ArgumentException($"Unknown loss '{name}'; expected xent, aux_conf or product."),
    };

    /// <summary>The command-line name of <paramref name="loss"/>.</summary>
    public static string Name(StudentLoss loss) => loss switch
    {
        StudentLoss.Xent => "xent",
        StudentLoss.AuxConf => "aux_conf",
        _ => "product",
    };

    /// <summary>
    /// α at training progress <paramref name="stepFraction"/> (steps done / total steps, 0..1): a linear ramp from 0 to
    /// <paramref name="alphaMax"/> over the first <paramref name="warmupFraction"/> of training, then constant.
    /// </summary>
    public static double Alpha(double stepFraction, double alphaMax = DefaultAlphaMax, double warmupFraction = DefaultWarmupFraction)
    {
        if (warmupFraction <= 0) return alphaMax;
        return alphaMax * Math.Clamp(stepFraction / warmupFraction, 0, 1);
    }

    /// <summary>
    /// The q-quantile of <paramref name="values"/> with linear interpolation between order statistics (numpy's and
    /// <c>torch.quantile</c>'s default).
    /// </summary>
    public static double Quantile(IReadOnlyList<float> values, double q)
    {
        if (values.Count == 0) throw new ArgumentException("The quantile of an empty batch is undefined.");
        var sorted = values.Order().ToArray();
        var position = Math.Clamp(q, 0, 1) * (sorted.Length - 1);
        var lo = (int)Math.Floor(position);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (position - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>
    /// Hardens the student's predictions at the batch quantile that matches the supervisor's class balance: with
    /// <paramref name="class1Share"/> the mean supervisor probability of class 1, the threshold is that quantile of the
    /// student's class-0 probabilities; examples below it become class 1, the others class 0 (the reference's rule). So
    /// about <paramref name="class1Share"/> of the batch is hardened to class 1, whatever the student's calibration.
    /// </summary>
    /// <returns>The hardened class (0 or 1) of each example.</returns>
    public static int[] HardenAtClassBalance(IReadOnlyList<float> studentClass0Probabilities, double class1Share)
    {
        var threshold = Quantile(studentClass0Probabilities, class1Share);
        return studentClass0Probabilities.Select(p => p >= threshold ? 0 : 1).ToArray();
    }

    /// <summary>
    /// The loss of a batch: <paramref name="logits"/> <c>[B, 2]</c> against soft labels <paramref name="targets"/>
    /// <c>[B, 2]</c> (rows sum to 1), at training progress <paramref name="stepFraction"/>.
    /// </summary>
    public static Tensor Compute(StudentLoss loss, Tensor logits, Tensor targets, double stepFraction,
        double alphaMax = DefaultAlphaMax, double warmupFraction = DefaultWarmupFraction)
    {
        using var scope = NewDisposeScope();
        var logProbs = logits.log_softmax(1);
        Tensor target;
        switch (loss)
        {
            case StudentLoss.Xent:
                target = targets;
                break;
            case StudentLoss.AuxConf:
            {
                var alpha = Alpha(stepFraction, alphaMax, warmupFraction);
                var class0 = logProbs.detach().exp()[.., 0].cpu().data<float>().ToArray();
                var class1Share = targets[.., 1].mean().item<float>();
                var hard = HardenAtClassBalance(class0, class1Share);
                var hardened = nn.functional.one_hot(tensor(hard.Select(h => (long)h).ToArray(), device: logits.device), 2).to(logits.dtype);
                // CE is linear in its target, so CE(f, (1−α)f_w + α f̂_t) = (1−α)·CE(f, f_w) + α·CE(f, f̂_t).
                // The scalars are held in variables: a temporary Scalar can be finalized while libtorch still reads it.
                using var keep = (1 - alpha).ToScalar();
                using var mix = alpha.ToScalar();
                target = targets * keep + hardened * mix;
                break;
            }
            default:
            {
                // The student's own belief times the supervisor's, renormalised (alpha = beta = 1 in the reference), fixed for the gradient.
                var product = logProbs.detach().exp() * targets;
                // A Scalar variable, not a temporary: a sweep once died in clamp_min reading a finalized temporary Scalar.
                using var epsilon = 1e-12.ToScalar();
                target = product / product.sum(1, keepdim: true).clamp_min(epsilon);
                break;
            }
        }
        return (-(target * logProbs).sum(1).mean()).MoveToOuterDisposeScope();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace Farabi.Research.WeakToStrong.Vision;

/// <summary>
/// The student losses of <see cref="StudentLoss"/> for K classes: logits <c>[B, K]</c> against soft targets
/// <c>[B, K]</c> (the weak supervisor's softmax; rows sum to 1).
/// <list type="bullet">
/// <item><c>xent</c>: <c>CE(f, f_w)</c>.</item>
/// <item><c>aux_conf</c>: <c>(1−α)·CE(f, f_w) + α·CE(f, f̂_t)</c> with f̂_t the one-hot of the student's own argmax.
/// For two classes the binary recipe hardens at the batch quantile matching the weak labels' class balance
/// (<see cref="WeakToStrongLoss.HardenAtClassBalance"/>); openai/weak-to-strong's <c>logconf_loss_fn</c> asserts two
/// classes, so for K classes we take the argmax, the direct generalisation of "the student's own confident answer"
/// (it does not re-balance classes within a batch). α follows <see cref="WeakToStrongLoss.Alpha"/>: a linear ramp from
/// 0 to α_max over the first 20% of steps.</item>
/// <item><c>product</c>: CE against the renormalised product of the student's (detached) and the supervisor's distributions.</item>
/// </list>
/// </summary>
public static class MultiClassWeakToStrongLoss
{
    /// <summary>The student's hardened predictions: the one-hot of each row's argmax, <c>[B, K]</c>, no gradient.</summary>
    public static Tensor HardenToArgmax(Tensor logits)
    {
        using var _ = no_grad();
        return nn.functional.one_hot(logits.argmax(1), logits.shape[1]).to(logits.dtype);
    }

    /// <summary>
    /// The mean loss of a batch at training progress <paramref name="stepFraction"/> (steps done / total steps).
    /// </summary>
    /// <exception cref="ArgumentException">Logits and targets of different shapes.</exception>
    public static Tensor Compute(StudentLoss loss, Tensor logits, Tensor targets, double stepFraction,
        double alphaMax = WeakToStrongLoss.DefaultAlphaMax, double warmupFraction = WeakToStrongLoss.DefaultWarmupFraction)
    {
        if (logits.dim() != 2 || !logits.shape.SequenceEqual(targets.shape))
            throw new ArgumentException($"Logits [{string.Join(", ", logits.shape)}] and targets [{string.Join(", ", targets.shape)}] must both be [batch, classes].");
        using var scope = NewDisposeScope();
        var logProbs = logits.log_softmax(1);
        var target = loss switch
        {
            StudentLoss.Xent => targets,
            // CE is linear in its target, so CE(f, (1−α)f_w + α f̂_t) = (1−α)·CE(f, f_w) + α·CE(f, f̂_t).
            StudentLoss.AuxConf => Mix(targets, HardenToArgmax(logits), WeakToStrongLoss.Alpha(stepFraction, alphaMax, warmupFraction)),
            _ => Product(logProbs, targets),
        };
        return (-(target * logProbs).sum(1).mean()).MoveToOuterDisposeScope();
    }

    // Scalars are explicit and disposed after use: an implicitly converted one can be finalized by the GC while libtorch
    // still reads it (see Farabi.Training.AdamW.Step).
    static Tensor Mix(Tensor weak, Tensor hardened, double alpha)
    {
        using Scalar keep = 1 - alpha, mix = alpha;
        return weak.mul(keep).add_(hardened.mul(mix));
    }

    static Tensor Product(Tensor logProbs, Tensor targets)
    {
        using Scalar tiny = 1e-12;
        var product = logProbs.detach().exp() * targets;
        return product / product.sum(1, keepdim: true).clamp_min(tiny);
    }
}

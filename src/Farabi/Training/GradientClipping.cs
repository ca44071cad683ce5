using static TorchSharp.torch;

namespace Farabi.Training;

/// <summary>Global-norm gradient clipping (Pascanu et al. 2013), as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>The L2 norm of all gradients of <paramref name="parameters"/> taken together.</summary>
    public static double GlobalNorm(IEnumerable<Tensor> parameters)
    {
        using var scope = NewDisposeScope();
        var squares = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!.square().sum()).ToArray();
        return squares.Length == 0 ? 0 : Math.Sqrt(stack(squares).sum().item<float>());
    }

    /// <summary>
    /// Scales all gradients by <c>maxNorm / (norm + 1e-6)</c> when their global norm exceeds <paramref name="maxNorm"/>
    /// (torch's formula), and returns the norm before clipping.
    /// </summary>
    public static double ClipGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        var list = parameters.ToList();
        var norm = GlobalNorm(list);
        var coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
        {
            using var _ = no_grad();
            foreach (var p in list) p.grad?.mul_(coefficient);
        }
        return norm;
    }
}

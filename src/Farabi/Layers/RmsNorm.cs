using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Layers;

/// <summary>
/// Root-mean-square layer normalisation (Zhang and Sennrich 2019, used by LLaMA):
/// <c>y = weight * x / sqrt(mean(x^2) + eps)</c>, no centring and no bias. Computed in fp32.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>The per-channel gain, <c>[dim]</c>, initialised to one.</summary>
    public Parameter weight;

    readonly double eps;

    /// <summary>Creates the norm over the last dimension of size <paramref name="dim"/>.</summary>
    public RmsNorm(long dim, double eps = 1e-6) : base(nameof(RmsNorm))
    {
        this.eps = eps;
        weight = new Parameter(ones(dim));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var normed = x * rsqrt(x.pow(2).mean([-1L], keepdim: true) + eps);
        return (weight * normed).MoveToOuterDisposeScope();
    }
}

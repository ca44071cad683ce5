using Farabi.Tests.Models;
using Farabi.Training;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Training;

public sealed class GradientClippingTests
{
    static Tensor WithGrad(float[] values)
    {
        var p = zeros(values.Length).requires_grad_(true);
        p.grad = tensor(values);
        return p;
    }

    [Fact]
    public void Clipping_caps_the_global_norm_and_returns_the_norm_before()
    {
        TinyModels.Ids(5, 1, 1);
        var a = WithGrad([3, 0]);
        var b = WithGrad([0, 4, 0]); // global norm 5
        var before = GradientClipping.ClipGlobalNorm([a, b], 1.0);
        Assert.Equal(5.0, before, 5);
        Assert.Equal(1.0, GradientClipping.GlobalNorm([a, b]), 4);
        Assert.Equal(0.6f, a.grad!.data<float>()[0], 4); // the direction is kept
        Assert.Equal(0.8f, b.grad!.data<float>()[1], 4);
    }

    [Fact]
    public void Gradients_below_the_cap_are_untouched()
    {
        TinyModels.Ids(5, 1, 1);
        var a = WithGrad([0.3f, 0.4f]);
        Assert.Equal(0.5, GradientClipping.ClipGlobalNorm([a], 1.0), 5);
        Assert.Equal([0.3f, 0.4f], a.grad!.data<float>().ToArray());
    }
}

using Farabi.Generation;
using Farabi.Tests.Models;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Generation;

public class SamplerTests
{
    static Tensor LogitsOf(params float[] probabilities)
    {
        _ = TinyModels.Gpt2();
        return tensor(probabilities).log().view(1, -1);
    }

    [Fact]
    public void TopKKeepsExactlyTheKMostLikelyTokens()
    {
        using var logits = LogitsOf(0.1f, 0.4f, 0.05f, 0.3f, 0.15f);
        using var p = Sampler.Probabilities(logits, new SamplingOptions { TopK = 2 });
        // 0.4 and 0.3 survive, renormalised to 4/7 and 3/7.
        Assert.True(p.allclose(tensor(new float[] { 0, 4f / 7, 0, 3f / 7, 0 }).view(1, -1), atol: 1e-6));
    }

    [Theory]
    [InlineData(0.35, new[] { 1 })]          // 0.4 alone reaches 0.35
    [InlineData(0.65, new[] { 1, 3 })]       // 0.4 + 0.3 = 0.7 >= 0.65
    [InlineData(0.75, new[] { 1, 3, 4 })]    // 0.7 < 0.75, add 0.15
    [InlineData(1.0, new[] { 0, 1, 2, 3, 4 })]
    public void TopPKeepsTheSmallestNucleusReachingP(double topP, int[] kept)
    {
        using var logits = LogitsOf(0.1f, 0.4f, 0.05f, 0.3f, 0.15f);
        using var p = Sampler.Probabilities(logits, new SamplingOptions { TopP = topP });
        var probs = p[0].data<float>().ToArray();
        for (var i = 0; i < probs.Length; i++) Assert.Equal(kept.Contains(i), probs[i] > 0);
        Assert.Equal(1.0, probs.Sum(), 5);
    }

    [Fact]
    public void DrawsStayInsideTheSupportAndFollowTheDistribution()
    {
        using var logits = LogitsOf(0.1f, 0.4f, 0.05f, 0.3f, 0.15f).expand(4000, -1);
        using var g = new Generator(42, CPU);
        using var drawn = Sampler.Sample(logits, new SamplingOptions { TopK = 3 }, g);
        var counts = drawn.bincount(null, 5).data<long>().ToArray();
        Assert.Equal(0, counts[0]);
        Assert.Equal(0, counts[2]);
        // Renormalised top-3: 0.4/0.85, 0.3/0.85, 0.15/0.85.
        Assert.Equal(0.4 / 0.85, counts[1] / 4000.0, 0.03);
        Assert.Equal(0.15 / 0.85, counts[4] / 4000.0, 0.03);
    }

    [Fact]
    public void TemperatureZeroIsArgmaxAndTemperatureFlattens()
    {
        using var logits = LogitsOf(0.1f, 0.4f, 0.05f, 0.3f, 0.15f);
        Assert.Equal(1, Sampler.Sample(logits, new SamplingOptions { Temperature = 0 }).item<long>());
        using var hot = Sampler.Probabilities(logits, new SamplingOptions { Temperature = 10 });
        using var cold = Sampler.Probabilities(logits, new SamplingOptions { Temperature = 0.5 });
        Assert.True(hot.max().item<float>() < 0.4f && cold.max().item<float>() > 0.4f);
    }

    [Fact]
    public void ImpossibleOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new SamplingOptions { TopP = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new SamplingOptions { TopK = -1 }.Validate());
        Assert.Throws<ArgumentException>(() => new SamplingOptions { Temperature = -0.5 }.Validate());
    }
}

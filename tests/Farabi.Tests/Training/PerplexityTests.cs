using Farabi.Models;
using Farabi.Tests.Models;
using Farabi.Training;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Tests.Training;

public sealed class PerplexityTests
{
    [Fact]
    public void One_window_equals_the_plain_cross_entropy_and_bpb_follows()
    {
        var config = TinyModels.Gpt2();
        using var model = config.CreateModel(4);
        var ids = TinyModels.Ids(config.VocabSize, 1, 20);
        var tokens = ids.data<long>().ToArray();
        var result = Perplexity.Evaluate(model, tokens, bytes: 40, contextLength: 19);
        model.eval();
        using var _ = no_grad();
        var logits = model.Forward(ids[.., ..19]);
        var expected = F.cross_entropy(logits.view(-1, config.VocabSize), ids[0, 1..]).item<float>();
        Assert.Equal(19, result.Tokens);
        Assert.Equal(expected, result.MeanLoss, 4);
        Assert.Equal(result.MeanLoss / Math.Log(2) * 20 / 40, result.BitsPerByte, 9);
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(8, 3)]
    [InlineData(16, 5)]
    public void Sliding_windows_score_every_token_once(int context, int stride)
    {
        var config = TinyModels.Gpt2();
        using var model = config.CreateModel(4);
        var tokens = TinyModels.Ids(config.VocabSize, 1, 53).data<long>().ToArray();
        var result = Perplexity.Evaluate(model, tokens, 0, context, stride, batchSize: 3);
        Assert.Equal(52, result.Tokens);
        Assert.True(double.IsNaN(result.BitsPerByte));
        // More context per scored token can only be judged statistically; here check the disjoint case by hand.
        if (stride == context)
        {
            model.eval();
            using var _ = no_grad();
            double sum = 0;
            for (var start = 0; start < 52; start += context)
            {
                var len = Math.Min(context, 52 - start);
                var x = tensor(tokens[start..(start + len)], [1, len]);
                var y = tensor(tokens[(start + 1)..(start + len + 1)]);
                sum += F.cross_entropy(model.Forward(x).view(-1, config.VocabSize), y, reduction: nn.Reduction.Sum).item<float>();
            }
            Assert.Equal(sum / 52, result.MeanLoss, 4);
        }
    }
}

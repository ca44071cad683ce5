using Farabi.Data;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Data;

public sealed class RandomWindowSamplerTests
{
    static long[] Flat(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void The_same_seed_draws_the_same_batches_and_another_seed_does_not()
    {
        var files = TinyCorpus.Write();
        using var data = TokenFile.Open(files.TrainPath);
        var a = new RandomWindowSampler(data, 16, 42);
        var b = new RandomWindowSampler(data, 16, 42);
        var c = new RandomWindowSampler(data, 16, 43);
        for (var i = 0; i < 3; i++)
        {
            var (xa, ya) = a.NextBatch(4);
            var (xb, yb) = b.NextBatch(4);
            var (xc, _) = c.NextBatch(4);
            Assert.Equal(Flat(xa), Flat(xb));
            Assert.Equal(Flat(ya), Flat(yb));
            Assert.NotEqual(Flat(xa), Flat(xc));
        }
    }

    [Fact]
    public void Targets_are_the_inputs_shifted_by_one_token()
    {
        var files = TinyCorpus.Write();
        using var data = TokenFile.Open(files.TrainPath);
        var all = data.ReadAll();
        var (x, y) = new RandomWindowSampler(data, 8, 1).NextBatch(5);
        Assert.Equal([5L, 8L], x.shape);
        for (var b = 0; b < 5; b++)
        {
            var xs = Flat(x[b]);
            var ys = Flat(y[b]);
            Assert.Equal(xs[1..], ys[..^1]);
            // The window really is a slice of the file.
            var start = Enumerable.Range(0, all.Length - 8).First(i => all.AsSpan(i, 8).SequenceEqual(xs) && all[i + 8] == ys[^1]);
            Assert.True(start >= 0);
        }
    }

    [Fact]
    public void Restoring_the_state_continues_the_same_sequence()
    {
        var files = TinyCorpus.Write();
        using var data = TokenFile.Open(files.TrainPath);
        var a = new RandomWindowSampler(data, 16, 7);
        a.NextBatch(3);
        var state = a.State;
        var expected = Flat(a.NextBatch(3).X);
        var b = new RandomWindowSampler(data, 16, 999);
        b.Restore(state, 3);
        Assert.Equal(expected, Flat(b.NextBatch(3).X));
        Assert.Equal(6, b.WindowsDrawn);
    }

    [Fact]
    public void Two_batches_of_b_are_one_batch_of_2b()
    {
        var files = TinyCorpus.Write();
        using var data = TokenFile.Open(files.TrainPath);
        var small = new RandomWindowSampler(data, 16, 5);
        var large = new RandomWindowSampler(data, 16, 5);
        var joined = cat([small.NextBatch(3).X, small.NextBatch(3).X], 0);
        Assert.Equal(Flat(large.NextBatch(6).X), Flat(joined));
    }
}

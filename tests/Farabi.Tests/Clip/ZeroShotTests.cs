using Farabi.Models.Clip;
using Farabi.Research.Clip;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Clip;

public sealed class ZeroShotTests
{
    [Fact]
    public void Ensembling_averages_unit_norm_prompt_embeddings_then_renormalises()
    {
        _ = new ClipConfig();
        // Class 0: a long vector along x and a short one along y; normalising first weighs them equally.
        // Class 1: both along -z, so the ensemble is -z.
        using var perPrompt = tensor(new float[] { 3, 0, 0, 0, 0.5f, 0, 0, 0, -1, 0, 0, -4 }, [2, 2, 3]);
        using var ensembled = ZeroShotClassifier.Ensemble(perPrompt);
        var v = ensembled.data<float>().ToArray();
        var r = (float)Math.Sqrt(0.5);
        Assert.Equal([r, r, 0, 0, 0, -1], v, new FloatTolerance(1e-5f));
    }

    sealed class FloatTolerance(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= eps;
        public int GetHashCode(float x) => 0;
    }

    [Fact]
    public void Top1_top5_and_confusion_from_logits()
    {
        _ = new ClipConfig();
        var names = Enumerable.Range(0, 7).Select(i => $"c{i}").ToList();
        // Row 0 ranks class 0 first; row 1 ranks its class 3 fifth; row 2 ranks its class 6 last.
        using var logits = tensor(new float[]
        {
            9, 1, 2, 3, 4, 5, 0,
            9, 8, 7, 5, 6, 1, 0,
            9, 8, 7, 6, 5, 4, 3,
        }, [3, 7]);
        var r = ClassificationResult.FromLogits(logits, [0, 3, 6], names);
        Assert.Equal(1.0 / 3, r.Top1, 6);
        Assert.Equal(2.0 / 3, r.Top5, 6);
        Assert.Equal(1, r.Confusion[0, 0]);
        Assert.Equal(1, r.Confusion[3, 0]);
        Assert.Equal(1, r.Confusion[6, 0]);
        Assert.Equal([0, 0, 0], r.Predictions);
    }

    [Fact]
    public void Linear_probe_separates_separable_features()
    {
        _ = new ClipConfig();
        using var g = new Generator(5, CPU);
        var centres = randn([3, 8], generator: g) * 3;
        var labels = Enumerable.Range(0, 90).Select(i => i % 3).ToList();
        using var features = centres.index_select(0, tensor(labels.Select(l => (long)l).ToArray())) + randn([90, 8], generator: g) * 0.3 + 10;
        using var probe = LinearProbe.Fit(features, labels, 3, steps: 200);
        var r = ClassificationResult.FromLogits(probe.Logits(features), labels, ["a", "b", "c"]);
        Assert.Equal(1.0, r.Top1);
    }

    [Fact]
    public void Caption_tokenizer_puts_start_words_end_then_padding_and_eot_is_the_largest_id()
    {
        var t = CaptionWordTokenizer.Build(["A small red circle.", "a blue square"], 6);
        var row = t.Tokenize("a red, SQUARE");
        Assert.Equal(t.StartOfTextId, row[0]);
        Assert.Equal(t.EndOfTextId, row[4]);
        Assert.Equal(CaptionWordTokenizer.PadId, row[5]);
        Assert.Equal(t.VocabSize - 1, t.EndOfTextId);
        Assert.Equal(CaptionWordTokenizer.UnknownId, t.Tokenize("a green circle")[2]);
        var longRow = t.Tokenize("a a a a a a a a");
        Assert.Equal(t.EndOfTextId, longRow[^1]);
    }
}

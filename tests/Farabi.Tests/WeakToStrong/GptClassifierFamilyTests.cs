using Farabi.Research.WeakToStrong;
using Xunit;

namespace Farabi.Tests.WeakToStrong;

public class GptClassifierFamilyTests
{
    static readonly GptPretrainingCorpus Corpus = GptPretrainingCorpus.Create(["the film was not good", "not bad at all", "a superb plot"], vocabSize: 400, storyChars: 4000);

    [Fact]
    public void Corpus_tokenizer_learns_the_task_words_and_every_text_has_a_last_token()
    {
        Assert.True(Corpus.Tokenizer.VocabSize <= 400);
        Assert.Contains("not bad at all", Corpus.Texts);
        Assert.Equal([Corpus.EndOfTextId], Corpus.Encode("", maxTokens: 8));
        var ids = Corpus.Encode("the film was not good and the plot was superb", maxTokens: 3);
        Assert.Equal(3, ids.Length);
        Assert.Equal(Corpus.Tokenizer.EncodeOrdinary("the film was not good and the plot was superb")[..3], ids);
        // The stream separates texts with the end-of-text token.
        Assert.Equal(Corpus.Texts.Count, Corpus.TokenStream().Count(i => i == Corpus.EndOfTextId));
        Assert.Throws<ArgumentException>(() => GptPretrainingCorpus.Create(["x"], vocabSize: 100));
    }

    [Fact]
    public void Learning_rate_scales_down_above_width_64_and_anneals_to_zero()
    {
        var options = new GptFamilyOptions(Steps: 10, LearningRate: 3e-3);
        using var small = GptClassifierFamily.Preset("gpt-small", options, Corpus);
        using var large = GptClassifierFamily.Preset("gpt-large", options, Corpus);
        Assert.Equal(3e-3, small.PeakLearningRate, 12);
        Assert.Equal(3e-3 * 64 / 96, large.PeakLearningRate, 12);
        Assert.Equal(large.PeakLearningRate, large.CosineLearningRate(1), 12);
        Assert.Equal(large.PeakLearningRate / 2, large.CosineLearningRate(6), 12);
        Assert.True(large.CosineLearningRate(10) < large.PeakLearningRate * 0.03);
        Assert.Equal(0, large.CosineLearningRate(11), 12);
    }

    [Fact]
    public void A_derived_role_shares_the_pretrained_weights_and_must_pretrain_alike()
    {
        var task = TextClassificationTask.SyntheticNegation(60, 20, seed: 3);
        var options = new GptFamilyOptions(PretrainSteps: 3, Steps: 4, BatchSize: 8, EvalEvery: 2);
        using var strong = GptClassifierFamily.Preset("gpt-tiny", options, Corpus);
        using var weak = strong.WithOptions(options with { Steps = 4 });
        var texts = task.Train.Select(e => e.Text).ToList();
        var request = new ClassifierTrainingRequest(texts, task.Train.Select(e => (float)e.Label).ToList(), StudentLoss.Xent, 1,
            texts.Take(10).ToList(), task.Train.Take(10).Select(e => e.Label).ToList(), task.Test.Select(e => e.Text).ToList());
        using var a = strong.Train(request).Classifier;
        using var b = weak.Train(request).Classifier;
        // Same pretrained weights, same seed, same steps: the same classifier.
        Assert.Equal(a.PredictClass1(texts), b.PredictClass1(texts));
        Assert.Throws<ArgumentException>(() => strong.WithOptions(options with { PretrainSteps = 5 }));
        weak.Dispose();
        // The source still trains after the derived family is gone.
        using var c = strong.Train(request).Classifier;
        Assert.Equal(a.PredictClass1(texts), c.PredictClass1(texts));
    }
}

// The probe seeds torch's global generator; beside other tests the reproduction check would race.
[Collection(nameof(Farabi.Tests.Training.GlobalTorchRng))]
public class TowerProbeFamilyTests
{
    /// <summary>A stand-in tower: counts of each letter a..h, so "a"-heavy texts are linearly separable; counts its calls.</summary>
    sealed class LetterCounts : Farabi.Towers.ITextEmbedder
    {
        public int Embedded;
        public string Name => "letter-counts";
        public int Dimension => 8;

        public float[][] Embed(IReadOnlyList<string> texts, IProgress<int>? progress = null)
        {
            Embedded += texts.Count;
            return texts.Select(t => Enumerable.Range(0, 8).Select(k => (float)t.Count(c => c == 'a' + k) / Math.Max(1, t.Length)).ToArray()).ToArray();
        }

        public void Dispose() { }
    }

    static List<(string Text, int Label)> Data(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var label = i % 2;
            var text = new string(Enumerable.Range(0, 12).Select(_ => (char)('a' + (label == 1 && random.Next(3) == 0 ? 0 : 1 + random.Next(7)))).ToArray());
            return (text, label);
        }).ToList();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    public void Probe_learns_a_separable_task_reproduces_by_seed_and_embeds_each_text_once(int hidden)
    {
        var tower = new LetterCounts();
        using var family = new TowerProbeFamily("letters", tower, new ProbeOptions(Hidden: hidden, Steps: 150, BatchSize: 16, LearningRate: 5e-2, EvalEvery: 50));
        var train = Data(200, 1);
        var test = Data(100, 2);
        var request = new ClassifierTrainingRequest(train.Select(e => e.Text).ToList(), train.Select(e => (float)e.Label).ToList(), StudentLoss.AuxConf, 3,
            test.Take(20).Select(e => e.Text).ToList(), test.Take(20).Select(e => e.Label).ToList(), test.Select(e => e.Text).ToList());
        var outcome = family.Train(request);
        using var probe = outcome.Classifier;
        var accuracy = ClassifierMetrics.Accuracy(probe.PredictClass1(test.Select(e => e.Text).ToList()), test.Select(e => e.Label).ToList());
        Assert.True(accuracy > 0.85, $"accuracy {accuracy}");
        Assert.Equal([50, 100, 150], outcome.Curve.Select(c => c.Step));
        Assert.Equal(test.Count, outcome.WatchAtBestStep.Length);
        var distinct = train.Concat(test).Select(e => e.Text).Distinct().Count();
        Assert.Equal(distinct, tower.Embedded);
        using var again = family.Train(request).Classifier;
        // Same seed, same probe: equal up to float summation order (libtorch's thread count may differ between runs).
        var first = probe.PredictClass1(test.Select(e => e.Text).ToList());
        var second = again.PredictClass1(test.Select(e => e.Text).ToList());
        for (int i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i], 1e-5f);
        Assert.Equal(distinct, tower.Embedded); // nothing embedded twice
    }
}

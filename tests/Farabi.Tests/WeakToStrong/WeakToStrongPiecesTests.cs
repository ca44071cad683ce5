using Farabi.Research.WeakToStrong;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.WeakToStrong;

public class WeakToStrongPiecesTests
{
    [Fact]
    public void Split_halves_are_disjoint_cover_everything_and_reproduce_by_seed()
    {
        var split = WeakLabelSplit.Create(101, seed: 7);
        Assert.Equal(50, split.A.Length);
        Assert.Equal(51, split.B.Length);
        Assert.Empty(split.A.Intersect(split.B));
        Assert.Equal(Enumerable.Range(0, 101), split.A.Concat(split.B).Order());
        var again = WeakLabelSplit.Create(101, seed: 7);
        Assert.Equal(split.A, again.A);
        Assert.Equal(split.B, again.B);
        Assert.NotEqual(split.A, WeakLabelSplit.Create(101, seed: 8).A);
        // Shuffled, not a prefix: the halves must not follow the data's order.
        Assert.NotEqual(Enumerable.Range(0, 50), split.A.Order());
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.05, 0.125)]
    [InlineData(0.1, 0.25)]
    [InlineData(0.15, 0.375)]
    [InlineData(0.2, 0.5)]
    [InlineData(0.6, 0.5)]
    [InlineData(1.0, 0.5)]
    public void Alpha_ramps_linearly_over_the_first_fifth_then_holds(double progress, double expected) =>
        Assert.Equal(expected, WeakToStrongLoss.Alpha(progress), 12);

    [Fact]
    public void Hardening_threshold_matches_the_weak_labels_class_balance()
    {
        var random = new Random(3);
        var p0 = Enumerable.Range(0, 200).Select(_ => (float)random.NextDouble()).ToArray();
        foreach (var share in new[] { 0.1, 0.3, 0.5, 0.85 })
        {
            var hard = WeakToStrongLoss.HardenAtClassBalance(p0, share);
            Assert.InRange(hard.Count(h => h == 1), (int)(200 * share) - 1, (int)(200 * share) + 1);
            // Class 1 goes to the examples the student finds least likely to be class 0.
            var maxP0OfClass1 = p0.Where((_, i) => hard[i] == 1).Max();
            var minP0OfClass0 = p0.Where((_, i) => hard[i] == 0).Min();
            Assert.True(maxP0OfClass1 < minP0OfClass0);
        }
    }

    [Fact]
    public void Quantile_interpolates_linearly_like_numpy() =>
        Assert.Equal(2.5, WeakToStrongLoss.Quantile([4f, 1f, 3f, 2f], 0.5), 6); // numpy.quantile([1,2,3,4], .5) = 2.5

    static Tensor Xent(Tensor logits, Tensor target) => -(target * logits.log_softmax(1)).sum(1).mean();

    [Fact]
    public void Confidence_loss_is_xent_at_the_start_and_the_alpha_mix_of_weak_and_hardened_targets_later()
    {
        Farabi.Training.TorchThreads.Set(Math.Max(1, Farabi.Training.TorchThreads.Count)); // loads the patched libtorch
        var logits = tensor(new float[] { 2f, -1f, 0.5f, 0.3f, -1f, 1f, 0f, 2f }).view(4, 2);
        var weak = tensor(new float[] { 0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f, 0.3f, 0.7f }).view(4, 2);
        var xent = WeakToStrongLoss.Compute(StudentLoss.Xent, logits, weak, 0.5).item<float>();
        Assert.Equal(xent, WeakToStrongLoss.Compute(StudentLoss.AuxConf, logits, weak, 0.0).item<float>(), 5);

        // Mean weak class-1 probability 0.5: the two examples with the lowest student p0 (rows 3 and 2) harden to class 1.
        var hardened = tensor(new float[] { 1, 0, 1, 0, 0, 1, 0, 1 }).view(4, 2);
        var expected = 0.5f * Xent(logits, weak).item<float>() + 0.5f * Xent(logits, hardened).item<float>();
        Assert.Equal(expected, WeakToStrongLoss.Compute(StudentLoss.AuxConf, logits, weak, 0.5).item<float>(), 5);
        Assert.NotEqual(xent, expected, 3);
    }

    [Fact]
    public void Product_loss_targets_the_renormalised_product_of_student_and_supervisor()
    {
        Farabi.Training.TorchThreads.Set(Math.Max(1, Farabi.Training.TorchThreads.Count));
        var weak = tensor(new float[] { 0.9f, 0.1f, 0.2f, 0.8f }).view(2, 2);
        // A uniform student leaves the supervisor's labels as the target.
        var uniform = zeros(2, 2);
        Assert.Equal(Xent(uniform, weak).item<float>(), WeakToStrongLoss.Compute(StudentLoss.Product, uniform, weak, 0.5).item<float>(), 5);
        var logits = tensor(new float[] { 1f, 0f, 0f, 2f }).view(2, 2);
        var p = logits.softmax(1);
        var target = p * weak / (p * weak).sum(1, keepdim: true);
        Assert.Equal(Xent(logits, target).item<float>(), WeakToStrongLoss.Compute(StudentLoss.Product, logits, weak, 0.5).item<float>(), 5);
    }

    [Fact]
    public void Pgr_is_the_recovered_share_of_the_gap_and_flags_a_ceiling_below_the_weak_model()
    {
        var pgr = PerformanceGapRecovered.Compute(weak: 0.6, weakToStrong: 0.7, ceiling: 0.8);
        Assert.Equal(0.5, pgr.Value, 12);
        Assert.True(pgr.CeilingBeatsWeak);
        Assert.Equal(1.0, PerformanceGapRecovered.Compute(0.6, 0.8, 0.8).Value, 12);
        Assert.Equal(-0.5, PerformanceGapRecovered.Compute(0.6, 0.5, 0.8).Value, 12);
        var inverted = PerformanceGapRecovered.Compute(weak: 0.8, weakToStrong: 0.75, ceiling: 0.7);
        Assert.False(inverted.CeilingBeatsWeak);
        Assert.Equal(0.5, inverted.Value, 12); // kept, not dropped; the flag says it is not a real recovery
        Assert.True(double.IsNaN(PerformanceGapRecovered.Compute(0.7, 0.8, 0.7).Value));
        Assert.False(PerformanceGapRecovered.Compute(0.7, 0.8, 0.7).CeilingBeatsWeak);
    }

    [Fact]
    public void Roc_auc_counts_ties_as_half_and_accuracy_thresholds_at_one_half()
    {
        int[] labels = [0, 0, 1, 1];
        Assert.Equal(1.0, ClassifierMetrics.RocAuc([0.1f, 0.2f, 0.3f, 0.9f], labels), 12);
        Assert.Equal(0.0, ClassifierMetrics.RocAuc([0.9f, 0.8f, 0.3f, 0.1f], labels), 12);
        // Pairs (pos, neg): 0.4>0.1, 0.4=0.4 (half), 0.8>0.1, 0.8>0.4 → 3.5 / 4.
        Assert.Equal(0.875, ClassifierMetrics.RocAuc([0.1f, 0.4f, 0.4f, 0.8f], labels), 12);
        Assert.Equal(0.75, ClassifierMetrics.Accuracy([0.1f, 0.6f, 0.5f, 0.8f], labels), 12);
        Assert.Equal(0.5, ClassifierMetrics.Agreement([0.1f, 0.6f, 0.5f, 0.8f], [0.9f, 0.6f, 0.4f, 0.8f]), 12);
    }

    [Fact]
    public void Mean_interval_is_the_student_t_interval()
    {
        var ci = MeanInterval.Of([1, 2, 3]);
        Assert.Equal(2, ci.Mean, 12);
        Assert.Equal(2 - 4.303 / Math.Sqrt(3), ci.Lower, 9); // sd 1, t(0.975, 2) = 4.303
        Assert.Equal(2 + 4.303 / Math.Sqrt(3), ci.Upper, 9);
        Assert.Equal(3, MeanInterval.Of([5, double.NaN, 1, 3]).Count);
        Assert.Equal(2.5, MeanInterval.Median([4, 1, 3, 2]), 12);
    }

    [Fact]
    public void Lexicon_task_labels_follow_word_polarity_and_rare_words_are_rare_in_training_only()
    {
        var task = TextClassificationTask.SyntheticLexicon(2000, 200, seed: 4);
        string[] positiveHead = ["good", "great", "excellent"], negativeHead = ["bad", "awful", "terrible"];
        var counts = task.Train.SelectMany(e => e.Text.Split(' ')).GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        // Zipf: the most frequent word is far more common than a word ranked near 40.
        Assert.True(counts["good"] > 30 * counts.GetValueOrDefault("compelling"), $"good {counts["good"]}, compelling {counts.GetValueOrDefault("compelling")}");
        // Training reviews mostly use the three most frequent words of their polarity (Zipf 1.5: 64%); the test set asks
        // about all 48 alike (6%).
        double HeadShare(IEnumerable<(string Text, int Label)> set) => set.Average(e => e.Text.Split(' ').Any(w => positiveHead.Contains(w) || negativeHead.Contains(w)) ? 1.0 : 0.0);
        Assert.InRange(HeadShare(task.Train), 0.55, 0.75);
        Assert.InRange(HeadShare(task.Test), 0.0, 0.15);
        foreach (var (text, label) in task.Train)
        {
            var words = text.Split(' ');
            Assert.DoesNotContain(words, w => (label == 1 ? negativeHead : positiveHead).Contains(w));
        }
        Assert.Contains(task.Train, e => e.Label == 1 && e.Text.Split(' ').Contains("good"));
        Assert.Equal(1000, task.Train.Count(e => e.Label == 1));
        Assert.Equal(task.Test, TextClassificationTask.SyntheticLexicon(2000, 200, seed: 4).Test);
    }

    [Fact]
    public void Synthetic_task_labels_follow_the_negation_rule_and_are_balanced()
    {
        var task = TextClassificationTask.SyntheticNegation(400, 100, seed: 2);
        string[] positive = ["good", "great", "fine", "happy", "lovely", "superb", "nice", "bright", "warm", "fun"];
        string[] negative = ["bad", "awful", "sad", "poor", "dull", "boring", "weak", "grim", "cold", "bleak"];
        foreach (var (text, label) in task.Train.Concat(task.Test))
        {
            var words = text.Split(' ');
            var score = 0;
            for (var i = 0; i < words.Length; i++)
            {
                var sign = positive.Contains(words[i]) ? 1 : negative.Contains(words[i]) ? -1 : 0;
                score += i > 0 && words[i - 1] == "not" ? -sign : sign;
            }
            Assert.Equal(score > 0 ? 1 : 0, label);
        }
        Assert.Equal(200, task.Train.Count(e => e.Label == 1));
        Assert.Contains(task.Train, e => e.Text.Contains("not "));
        Assert.Equal(task.Train, TextClassificationTask.SyntheticNegation(400, 100, seed: 2).Train);
    }
}

public class OversightSelectionTests
{
    [Fact]
    public void Student_strategy_checks_confident_disagreements_first()
    {
        float[] weak = [0.9f, 0.2f, 0.7f, 0.4f, 0.6f];
        float[] student = [0.1f, 0.3f, 0.45f, 0.95f, 0.99f];
        // Disagreements: 0 (student conf .4), 2 (.05), 3 (.45); agreements 1 and 4.
        Assert.Equal([3, 0], Farabi.Research.Oversight.OversightSelection.Select(Farabi.Research.Oversight.OversightStrategy.StudentDisagrees, 2, weak, student));
        Assert.Equal([3, 0, 2, 4], Farabi.Research.Oversight.OversightSelection.Select(Farabi.Research.Oversight.OversightStrategy.StudentDisagrees, 4, weak, student));
    }

    [Fact]
    public void Ensemble_strategy_checks_the_largest_spread_and_random_is_seeded()
    {
        float[] weak = [0.5f, 0.5f, 0.5f, 0.5f];
        IReadOnlyList<float>[] members = [[0.1f, 0.5f, 0.5f, 0.9f], [0.9f, 0.5f, 0.6f, 0.9f], [0.5f, 0.5f, 0.4f, 0.9f]];
        Assert.Equal([0, 2], Farabi.Research.Oversight.OversightSelection.Select(Farabi.Research.Oversight.OversightStrategy.EnsembleDisagreement, 2, weak, ensembleClass1: members));
        var r1 = Farabi.Research.Oversight.OversightSelection.Select(Farabi.Research.Oversight.OversightStrategy.Random, 10, new float[100], seed: 4);
        Assert.Equal(r1, Farabi.Research.Oversight.OversightSelection.Select(Farabi.Research.Oversight.OversightStrategy.Random, 10, new float[100], seed: 4));
        Assert.Equal(10, r1.Distinct().Count());
        var corrected = Farabi.Research.Oversight.OversightSelection.Correct([0.9f, 0.8f, 0.1f], [0, 1, 1], [0, 2]);
        Assert.Equal([0f, 0.8f, 1f], corrected);
    }
}

public class Sst2TaskTests
{
    [Fact]
    public void Sst2_adapter_reads_the_glue_folder_and_samples_by_seed()
    {
        var folder = Farabi.Testing.SharedData.Require("classification/sst2");
        var task = TextClassificationTask.Sst2(folder, trainCount: 300, testCount: 100, seed: 3);
        Assert.Equal((300, 100), (task.Train.Count, task.Test.Count));
        Assert.All(task.Train.Concat(task.Test), e => Assert.True(e.Label is 0 or 1 && e.Text.Length > 0));
        Assert.InRange(task.Train.Count(e => e.Label == 1), 100, 200); // SST-2 is roughly balanced (56% positive)
        Assert.Equal(task.Train, TextClassificationTask.Sst2(folder, 300, 100, seed: 3).Train);
        Assert.DoesNotContain(task.Train, e => e.Text == "sentence"); // the header is skipped
    }
}

using Farabi.Research.WeakToStrong;
using Xunit;

namespace Farabi.Tests.WeakToStrong;

public class WeakToStrongExperimentTests
{
    static readonly GptFamilyOptions Quick = new(PretrainSteps: 3, PretrainChars: 3000, Steps: 12, BatchSize: 16, LearningRate: 3e-3, EvalEvery: 4, MaxTokens: 48);

    static IReadOnlyList<WeakToStrongResult> RunOnce(int seed)
    {
        var task = TextClassificationTask.SyntheticNegation(160, 60, seed: 1);
        using var weak = GptClassifierFamily.Preset("gpt-tiny", Quick);
        using var strong = GptClassifierFamily.Preset("gpt-small", Quick);
        return new WeakToStrongExperiment(task, new WeakToStrongOptions(Losses: [StudentLoss.Xent, StudentLoss.AuxConf])).Run(weak, strong, seed);
    }

    [Fact]
    public void Experiment_yields_one_consistent_row_per_loss_and_the_seed_reproduces_it()
    {
        var rows = RunOnce(seed: 5);
        Assert.Equal(["xent", "aux_conf"], rows.Select(r => r.Loss));
        foreach (var r in rows)
        {
            Assert.Equal(("gpt-tiny", "gpt-small", 5), (r.Weak, r.Strong, r.Seed));
            foreach (var m in new[] { r.WeakAcc, r.CeilingAcc, r.W2sAcc, r.W2sBestAcc, r.Agreement, r.WeakLabelAccOnB }) Assert.InRange(m, 0, 1);
            // The reported PGR is the PGR of the reported accuracies, whatever the sign of the gap.
            var gap = r.CeilingAcc - r.WeakAcc;
            if (gap != 0) Assert.Equal((r.W2sAcc - r.WeakAcc) / gap, r.Pgr, 9);
            Assert.Equal(gap > 0, r.CeilingBeatsWeak);
            Assert.InRange(r.BestStep, 4, 12);
        }
        // Both rows share the supervisor and the ceiling.
        Assert.Equal(rows[0].WeakAcc, rows[1].WeakAcc);
        Assert.Equal(rows[0].CeilingAcc, rows[1].CeilingAcc);
        var again = RunOnce(seed: 5);
        Assert.Equal(rows.Select(r => (r.WeakAcc, r.W2sAcc, r.CeilingAcc)), again.Select(r => (r.WeakAcc, r.W2sAcc, r.CeilingAcc)));
    }

    [Fact]
    public void Bootstrapping_names_the_chain_that_produced_the_labels()
    {
        var task = TextClassificationTask.SyntheticNegation(120, 40, seed: 1);
        using var weak = GptClassifierFamily.Preset("gpt-tiny", Quick);
        using var middle = GptClassifierFamily.Preset("gpt-tiny", Quick with { Steps = 8 });
        using var strong = GptClassifierFamily.Preset("gpt-small", Quick);
        var rows = new WeakToStrongExperiment(task, new WeakToStrongOptions(Losses: [StudentLoss.Product])).Run(weak, strong, 1, [middle]);
        var row = Assert.Single(rows);
        Assert.Equal("gpt-tiny>gpt-tiny", row.Weak);
        Assert.Equal("product", row.Loss);
    }
}

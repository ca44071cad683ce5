using System.Globalization;
using System.Text;

namespace Farabi.Research.WeakToStrong;

/// <summary>A short weak-to-strong run on the built-in synthetic task, for <c>farabi demo</c> (about two minutes on two cores).</summary>
public static class WeakToStrongDemo
{
    /// <summary>
    /// gpt-tiny supervises gpt-medium on the synthetic negation task, with the xent and aux_conf losses, one seed.
    /// Returns a one-line headline and a markdown section with the table.
    /// </summary>
    public static (string Headline, string Markdown, IReadOnlyList<WeakToStrongResult> Rows) Run(Action<string>? progress = null, int seed = 0)
    {
        var options = new GptFamilyOptions(PretrainSteps: 60, Steps: 150, EvalEvery: 50);
        var task = TextClassificationTask.SyntheticNegation(1200, 400, seed);
        var corpus = GptPretrainingCorpus.Create(task.Train.Select(e => e.Text));
        using var weak = GptClassifierFamily.Preset("gpt-tiny", options with { Steps = 100 }, corpus);
        using var strong = GptClassifierFamily.Preset("gpt-medium", options, corpus);
        var rows = new WeakToStrongExperiment(task) { Progress = progress }.Run(weak, strong, seed);
        string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.AppendLine("## Weak-to-strong generalization (synthetic negation task)").AppendLine();
        md.AppendLine("| weak | strong | loss | weak acc | w2s acc | ceiling acc | PGR | PGR (best step) | agreement |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            md.AppendLine($"| {r.Weak} | {r.Strong} | {r.Loss} | {F(r.WeakAcc)} | {F(r.W2sAcc)} | {F(r.CeilingAcc)} | {F(r.Pgr)}{(r.CeilingBeatsWeak ? "" : " (ceiling ≤ weak)")} | {F(r.PgrBest)} | {F(r.Agreement)} |");
        var best = rows.MaxBy(r => r.W2sAcc)!;
        var headline = $"w2s: {best.Strong} taught by {best.Weak} reaches {F(best.W2sAcc)} vs weak {F(best.WeakAcc)} and ceiling {F(best.CeilingAcc)} (PGR {F(best.Pgr)}, {best.Loss})";
        return (headline, md.ToString(), rows);
    }
}

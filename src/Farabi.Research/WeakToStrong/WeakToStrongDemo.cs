using System.Globalization;
using System.Text;

namespace Farabi.Research.WeakToStrong;

/// <summary>A short weak-to-strong run on the built-in synthetic task, for <c>farabi demo</c> (about two minutes on two cores).</summary>
public static class WeakToStrongDemo
{
    /// <summary>
    /// gpt-tiny (one layer, trained from its own short pretraining) supervises <paramref name="strong"/> on the built-in
    /// <see cref="TextClassificationTask.SyntheticLexicon"/> task (rare sentiment words), with the xent and aux_conf
    /// losses, one seed. The default strong model is a linear probe on frozen all-MiniLM-L6-v2 embeddings (the paper's
    /// linear-probe setting: the knowledge is in the pretrained representation); <c>gpt-small</c> gives the GPT-only pair. Returns a one-line headline, a markdown section with the table, and the
    /// rows (the <c>results.json</c> format).
    /// </summary>
    public static (string Headline, string Markdown, IReadOnlyList<WeakToStrongResult> Rows) Run(Action<string>? progress = null, int seed = 0, string strong = "minilm-probe")
    {
        var options = new GptFamilyOptions(PretrainSteps: 200, Steps: 300, EvalEvery: 50);
        var task = TextClassificationTask.SyntheticLexicon(1200, 400, seed);
        var corpus = GptPretrainingCorpus.Create(task.Train.Select(e => e.Text));
        using var weak = GptClassifierFamily.Preset("gpt-tiny", options, corpus);
        using var strongFamily = TowerProbeFamily.MiniLmNames.Contains(strong)
            ? TowerProbeFamily.MiniLm(strong)
            : (IDisposable)GptClassifierFamily.Preset(strong, options, corpus);
        var rows = new WeakToStrongExperiment(task, new WeakToStrongOptions(Losses: [StudentLoss.Xent, StudentLoss.AuxConf])) { Progress = progress }
            .Run(weak, (IClassifierFamily)strongFamily, seed);
        string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.AppendLine($"gpt-tiny (1 layer) trained on half A's ground truth labels half B; {strong} learns from those labels")
            .AppendLine("(\"w2s\") and, as the ceiling, from B's ground truth. PGR = (w2s − weak) / (ceiling − weak). Built-in task with")
            .AppendLine($"Zipf-rare sentiment words: {task.Train.Count} training and {task.Test.Count} test reviews; `farabi w2s sweep` runs every pair of a list.")
            .AppendLine();
        md.AppendLine("| weak | strong | loss | weak acc | w2s acc | ceiling acc | PGR | PGR (best step) | agreement |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            md.AppendLine($"| {r.Weak} | {r.Strong} | {r.Loss} | {F(r.WeakAcc)} | {F(r.W2sAcc)} | {F(r.CeilingAcc)} | {F(r.Pgr)}{(r.CeilingBeatsWeak ? "" : " (ceiling ≤ weak)")} | {F(r.PgrBest)} | {F(r.Agreement)} |");
        var best = rows.MaxBy(r => r.W2sAcc)!;
        var headline = $"{best.Strong} taught by {best.Weak}: {F(best.W2sAcc)} vs weak {F(best.WeakAcc)}, ceiling {F(best.CeilingAcc)} (PGR {F(best.Pgr)}, {best.Loss})";
        return (headline, md.ToString(), rows);
    }
}

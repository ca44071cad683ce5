using System.Text.Json;
using System.Text.Json.Serialization;

namespace Farabi.Research.WeakToStrong;

/// <summary>One (weak, strong, loss) cell aggregated over seeds.</summary>
/// <param name="Weak">Supervisor (or chain).</param>
/// <param name="Strong">Student family.</param>
/// <param name="Loss">Loss name.</param>
/// <param name="Seeds">Number of seeds.</param>
/// <param name="WeakAcc">Weak test accuracy.</param>
/// <param name="W2sAcc">Student test accuracy at the end.</param>
/// <param name="CeilingAcc">Ceiling test accuracy at the end.</param>
/// <param name="Pgr">Accuracy PGR at the end, with its 95% t-interval over seeds.</param>
/// <param name="PgrBest">Accuracy PGR at the best validation step.</param>
/// <param name="PgrAuc">ROC-AUC PGR at the end.</param>
/// <param name="Agreement">Student–supervisor agreement on the test set.</param>
/// <param name="CeilingNotAboveWeak">Seeds whose ceiling did not beat the weak model (their PGR is included but flagged).</param>
public sealed record WeakToStrongCell(string Weak, string Strong, string Loss, int Seeds, MeanInterval WeakAcc, MeanInterval W2sAcc, MeanInterval CeilingAcc,
    MeanInterval Pgr, MeanInterval PgrBest, MeanInterval PgrAuc, MeanInterval Agreement, int CeilingNotAboveWeak)
{
    /// <summary>
    /// The PGR of the mean accuracies, (w2s − weak) / (ceiling − weak) over seed means. Unlike the mean of per-seed PGRs
    /// it stays bounded when one seed's gap is tiny or reversed (a per-seed PGR then explodes or flips sign).
    /// </summary>
    public double PgrOfMeans => PerformanceGapRecovered.Compute(WeakAcc.Mean, W2sAcc.Mean, CeilingAcc.Mean).Value;
}

/// <summary>Aggregation of <see cref="WeakToStrongResult"/> rows over seeds, and the <c>results.json</c> format.</summary>
public static class WeakToStrongSummary
{
    /// <summary>snake_case names (<c>weak_acc</c>, <c>w2s_acc</c>, <c>pgr_best</c>, ...); NaN written as the string "NaN".</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };

    /// <summary>The rows as the JSON array of <c>results.json</c>.</summary>
    public static string ToJson(IEnumerable<WeakToStrongResult> rows) => JsonSerializer.Serialize(rows.ToArray(), Json);

    /// <summary>Reads a <c>results.json</c> written by <see cref="ToJson"/>.</summary>
    /// <exception cref="FormatException">The file is not such an array.</exception>
    public static List<WeakToStrongResult> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Results file '{path}' does not exist.", path);
        try
        {
            return JsonSerializer.Deserialize<List<WeakToStrongResult>>(File.ReadAllText(path), Json)
                ?? throw new FormatException($"Results file '{path}' holds null instead of an array of rows.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"Results file '{path}' is not a weak-to-strong results array: {e.Message}");
        }
    }

    /// <summary>Cells per (weak, strong, loss), in first-seen order.</summary>
    public static List<WeakToStrongCell> Cells(IEnumerable<WeakToStrongResult> rows) =>
        rows.GroupBy(r => (r.Weak, r.Strong, r.Loss)).Select(g => new WeakToStrongCell(g.Key.Weak, g.Key.Strong, g.Key.Loss, g.Count(),
            MeanInterval.Of(g.Select(r => r.WeakAcc)), MeanInterval.Of(g.Select(r => r.W2sAcc)), MeanInterval.Of(g.Select(r => r.CeilingAcc)),
            MeanInterval.Of(g.Select(r => r.Pgr)), MeanInterval.Of(g.Select(r => r.PgrBest)), MeanInterval.Of(g.Select(r => r.PgrAuc)),
            MeanInterval.Of(g.Select(r => r.Agreement)), g.Count(r => !r.CeilingBeatsWeak))).ToList();

    /// <summary>
    /// Median over pairs of the PGR of mean accuracies (<see cref="WeakToStrongCell.PgrOfMeans"/>), per loss, counting
    /// only pairs whose ceiling beats the weak model on average (the paper's summary statistic).
    /// </summary>
    public static Dictionary<string, double> MedianPgrByLoss(IEnumerable<WeakToStrongCell> cells) =>
        cells.Where(c => c.CeilingAcc.Mean > c.WeakAcc.Mean).GroupBy(c => c.Loss).ToDictionary(g => g.Key, g => MeanInterval.Median(g.Select(c => c.PgrOfMeans)));
}

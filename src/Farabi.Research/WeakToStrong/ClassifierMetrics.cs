namespace Farabi.Research.WeakToStrong;

/// <summary>Metrics of a binary classifier from its probabilities of class 1.</summary>
public static class ClassifierMetrics
{
    /// <summary>Share of examples where <c>p ≥ 0.5</c> agrees with the label.</summary>
    public static double Accuracy(IReadOnlyList<float> class1Probabilities, IReadOnlyList<int> labels)
    {
        Check(class1Probabilities.Count, labels.Count);
        var correct = 0;
        for (var i = 0; i < labels.Count; i++) correct += (class1Probabilities[i] >= 0.5f ? 1 : 0) == labels[i] ? 1 : 0;
        return (double)correct / labels.Count;
    }

    /// <summary>
    /// Area under the ROC curve: the probability that a random positive scores above a random negative, ties counting
    /// one half (the Mann–Whitney statistic). NaN when one class is absent.
    /// </summary>
    public static double RocAuc(IReadOnlyList<float> scores, IReadOnlyList<int> labels)
    {
        Check(scores.Count, labels.Count);
        return RankStatistics.RocAuc(scores.Select(s => (double)s).ToArray(), labels.Select(l => l == 1).ToArray());
    }

    /// <summary>Share of examples where two classifiers predict the same class (student–supervisor agreement).</summary>
    public static double Agreement(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        Check(a.Count, b.Count);
        var same = 0;
        for (var i = 0; i < a.Count; i++) same += (a[i] >= 0.5f) == (b[i] >= 0.5f) ? 1 : 0;
        return (double)same / a.Count;
    }

    static void Check(int predictions, int labels)
    {
        if (predictions != labels) throw new ArgumentException($"{predictions} predictions for {labels} labels.");
        if (labels == 0) throw new ArgumentException("No examples to score.");
    }
}

/// <summary>
/// Performance gap recovered (Burns et al., 2023): <c>(m(weak→strong) − m(weak)) / (m(ceiling) − m(weak))</c> for a
/// metric m (accuracy or ROC-AUC). 1 means the student trained on weak labels matches the strong model trained on
/// ground truth; 0 means it only matches its supervisor.
/// </summary>
/// <param name="Value">The PGR; NaN when the ceiling equals the weak model exactly (no gap to recover).</param>
/// <param name="CeilingBeatsWeak">False when the ceiling does not beat the weak model: the PGR is then meaningless (its sign flips), so such pairs are flagged in reports rather than dropped.</param>
public sealed record PerformanceGapRecovered(double Value, bool CeilingBeatsWeak)
{
    /// <summary>PGR of <paramref name="weakToStrong"/> between <paramref name="weak"/> and <paramref name="ceiling"/>.</summary>
    public static PerformanceGapRecovered Compute(double weak, double weakToStrong, double ceiling)
    {
        var gap = ceiling - weak;
        return new PerformanceGapRecovered(gap == 0 ? double.NaN : (weakToStrong - weak) / gap, gap > 0);
    }
}

/// <summary>A mean with its two-sided 95% confidence interval (Student's t, n − 1 degrees of freedom).</summary>
/// <param name="Mean">The mean of the finite values.</param>
/// <param name="Lower">Lower end (equal to the mean for one value).</param>
/// <param name="Upper">Upper end.</param>
/// <param name="Count">Number of finite values used.</param>
public sealed record MeanInterval(double Mean, double Lower, double Upper, int Count)
{
    // t_{0.975, df} for df = 1..30; beyond that the normal 1.96 is within 2%.
    static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>The mean of <paramref name="values"/> (NaNs skipped) and its 95% t-interval.</summary>
    public static MeanInterval Of(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new MeanInterval(double.NaN, double.NaN, double.NaN, 0);
        var mean = v.Average();
        if (v.Length == 1) return new MeanInterval(mean, mean, mean, 1);
        var sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        var t = v.Length - 1 <= T975.Length ? T975[v.Length - 2] : 1.96;
        var half = t * sd / Math.Sqrt(v.Length);
        return new MeanInterval(mean, mean - half, mean + half, v.Length);
    }

    /// <summary>The median of the finite values (NaN when there are none).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}

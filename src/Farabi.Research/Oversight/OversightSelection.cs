namespace Farabi.Research.Oversight;

/// <summary>Which weak labels a budget-limited overseer checks against ground truth.</summary>
public enum OversightStrategy
{
    /// <summary>k examples drawn at random (the baseline).</summary>
    Random,
    /// <summary>Where the strong student (trained on the weak labels) disagrees with the weak label, most confident student first.</summary>
    StudentDisagrees,
    /// <summary>Where an ensemble of weak supervisors trained on bootstrap resamples of A disagrees most (highest spread of probabilities).</summary>
    EnsembleDisagreement,
}

/// <summary>
/// Picks the examples of half B whose weak labels an overseer checks. The follow-up to weak-to-strong generalization
/// asks whether the strong model can point a limited overseer to the labels worth checking (scalable oversight);
/// the strategies are compared at equal budget k.
/// </summary>
public static class OversightSelection
{
    /// <summary>Parses <c>random</c>, <c>student</c> (strong-confidently-disagrees) and <c>ensemble</c>.</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static OversightStrategy Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "random" => OversightStrategy.Random,
        "student" or "student-disagrees" or "strong-disagrees" => OversightStrategy.StudentDisagrees,
        "ensemble" or "ensemble-disagreement" => OversightStrategy.EnsembleDisagreement,
        _ => throw new ArgumentException($"Unknown oversight strategy '{name}'; expected random, student or ensemble."),
    };

    /// <summary>The command-line name of <paramref name="strategy"/>.</summary>
    public static string Name(OversightStrategy strategy) => strategy switch
    {
        OversightStrategy.Random => "random",
        OversightStrategy.StudentDisagrees => "student",
        _ => "ensemble",
    };

    /// <summary>
    /// The indices (into B) of the <paramref name="budget"/> examples to check.
    /// </summary>
    /// <param name="strategy">How to rank.</param>
    /// <param name="budget">Number of checks k (clamped to B's size).</param>
    /// <param name="weakClass1">Weak label (class-1 probability) per example of B.</param>
    /// <param name="studentClass1">The strong student's class-1 probability per example (for <see cref="OversightStrategy.StudentDisagrees"/>).</param>
    /// <param name="ensembleClass1">Per ensemble member, class-1 probabilities per example (for <see cref="OversightStrategy.EnsembleDisagreement"/>).</param>
    /// <param name="seed">For <see cref="OversightStrategy.Random"/> and tie-breaking.</param>
    public static int[] Select(OversightStrategy strategy, int budget, IReadOnlyList<float> weakClass1, IReadOnlyList<float>? studentClass1 = null,
        IReadOnlyList<IReadOnlyList<float>>? ensembleClass1 = null, int seed = 0)
    {
        var n = weakClass1.Count;
        budget = Math.Clamp(budget, 0, n);
        var random = new Random(seed);
        // A random key per example breaks ties without favouring low indices.
        var tieBreak = Enumerable.Range(0, n).Select(_ => random.NextDouble()).ToArray();
        double[] score;
        switch (strategy)
        {
            case OversightStrategy.Random:
                score = tieBreak;
                break;
            case OversightStrategy.StudentDisagrees:
                if (studentClass1 is null || studentClass1.Count != n) throw new ArgumentException("The student-disagrees strategy needs the student's probability for every example of B.");
                // Disagreements first (score ≥ 1), ranked by the student's confidence; then agreements by the same measure.
                score = Enumerable.Range(0, n).Select(i => ((studentClass1[i] >= 0.5f) != (weakClass1[i] >= 0.5f) ? 1.0 : 0.0) + Math.Abs(studentClass1[i] - 0.5)).ToArray();
                break;
            default:
                if (ensembleClass1 is null || ensembleClass1.Count < 2 || ensembleClass1.Any(m => m.Count != n))
                    throw new ArgumentException("The ensemble strategy needs at least two ensemble members' probabilities for every example of B.");
                score = Enumerable.Range(0, n).Select(i =>
                {
                    var mean = ensembleClass1.Average(m => (double)m[i]);
                    return ensembleClass1.Average(m => (m[i] - mean) * (m[i] - mean));
                }).ToArray();
                break;
        }
        return Enumerable.Range(0, n).OrderByDescending(i => score[i]).ThenBy(i => tieBreak[i]).Take(budget).ToArray();
    }

    /// <summary>The weak labels with the <paramref name="checkedIndices"/> replaced by their ground truth (0 or 1).</summary>
    public static float[] Correct(IReadOnlyList<float> weakClass1, IReadOnlyList<int> groundTruth, IEnumerable<int> checkedIndices)
    {
        var labels = weakClass1.ToArray();
        foreach (var i in checkedIndices) labels[i] = groundTruth[i];
        return labels;
    }
}

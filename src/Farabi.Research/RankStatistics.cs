namespace Farabi.Research;

/// <summary>Rank-based statistics shared by the experiments.</summary>
public static class RankStatistics
{
    /// <summary>
    /// Area under the ROC curve by ranks (the Mann–Whitney U statistic): the probability that a random positive
    /// scores above a random negative, ties counting one half. NaN when one class is absent.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length.</exception>
    public static double RocAuc(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        if (scores.Count != positive.Count) throw new ArgumentException($"{scores.Count} scores but {positive.Count} labels.");
        long pos = positive.Count(p => p), neg = positive.Count - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        var rankSum = 0.0;
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            var rank = (i + j) / 2.0 + 1; // the mean 1-based rank of the tie group
            for (var k = i; k <= j; k++) if (positive[order[k]]) rankSum += rank;
            i = j + 1;
        }
        // pos and neg are long: pos * (pos + 1) overflows an int beyond 46,340 positives.
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }
}

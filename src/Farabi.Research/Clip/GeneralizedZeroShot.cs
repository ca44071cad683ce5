namespace Farabi.Research.Clip;

/// <summary>One point of the seen–unseen trade-off: the calibration constant and the two accuracies it gives.</summary>
/// <param name="Gamma">The constant subtracted from every seen class's score.</param>
/// <param name="SeenAccuracy">Top-1 over all classes on images of the seen (training) classes.</param>
/// <param name="UnseenAccuracy">Top-1 over all classes on images of the held-out classes.</param>
public readonly record struct SeenUnseenPoint(double Gamma, double SeenAccuracy, double UnseenAccuracy)
{
    /// <summary>Harmonic mean of the two accuracies (0 when either is 0): the usual single figure for generalized zero-shot.</summary>
    public double HarmonicMean => SeenAccuracy + UnseenAccuracy == 0 ? 0 : 2 * SeenAccuracy * UnseenAccuracy / (SeenAccuracy + UnseenAccuracy);
}

/// <summary>
/// Generalized zero-shot, where seen and held-out classes compete for every image: a model trained on the seen
/// classes scores them higher across the board, so held-out images go to a similar seen class (cats to "dog").
/// Calibrated stacking (Chao, Changpinyo, Gong &amp; Sha, ECCV 2016) subtracts a constant γ from the seen classes'
/// scores; sweeping γ traces the seen–unseen accuracy curve, and the area under it (AUSUC) summarises the model
/// without choosing γ. The best harmonic mean on the curve uses the test labels to pick γ, so it is an upper bound,
/// reported as such.
/// </summary>
public static class GeneralizedZeroShot
{
    /// <summary>
    /// The curve over every γ at which some image's prediction changes, from a γ where only seen classes win to one
    /// where only held-out classes win, sorted by γ.
    /// </summary>
    /// <param name="seenScores">Scores [image][class] of seen-class images over all classes.</param>
    /// <param name="seenLabels">Their labels (class indices).</param>
    /// <param name="unseenScores">Scores of held-out-class images over all classes.</param>
    /// <param name="unseenLabels">Their labels.</param>
    /// <param name="isSeenClass">Per class: whether it was seen in training.</param>
    public static IReadOnlyList<SeenUnseenPoint> Curve(float[][] seenScores, IReadOnlyList<int> seenLabels, float[][] unseenScores,
        IReadOnlyList<int> unseenLabels, IReadOnlyList<bool> isSeenClass)
    {
        if (seenScores.Length == 0 || unseenScores.Length == 0) throw new ArgumentException("the seen–unseen curve needs images of both seen and held-out classes.");
        if (!isSeenClass.Contains(true) || !isSeenClass.Contains(false)) throw new ArgumentException("the seen–unseen curve needs both seen and held-out classes.");
        // For one image, the prediction depends on γ only through the gap between its best seen and best held-out
        // score: the held-out class wins once γ > gap. Deciding by that comparison (rather than by subtracting γ and
        // comparing again) keeps the breakpoints exact in floating point.
        var seen = seenScores.Select(s => Best(s, isSeenClass)).ToArray();
        var unseen = unseenScores.Select(s => Best(s, isSeenClass)).ToArray();
        var gaps = seen.Concat(unseen).Select(b => b.Gap).Distinct().Order().ToList();
        // Below the smallest gap every image goes to a seen class; just above each gap one more image switches.
        var gammas = new List<double> { gaps[0] - 1 };
        gammas.AddRange(gaps.Select(Math.BitIncrement));
        return gammas.Select(g => new SeenUnseenPoint(g, Accuracy(seen, seenLabels, g), Accuracy(unseen, unseenLabels, g))).ToList();
    }

    /// <summary>Area under the curve of seen accuracy against unseen accuracy (trapezoids), in [0, 1].</summary>
    public static double AreaUnderCurve(IReadOnlyList<SeenUnseenPoint> curve)
    {
        var sorted = curve.OrderBy(p => p.UnseenAccuracy).ThenByDescending(p => p.SeenAccuracy).ToList();
        double area = 0;
        for (int i = 1; i < sorted.Count; i++)
            area += (sorted[i].UnseenAccuracy - sorted[i - 1].UnseenAccuracy) * (sorted[i].SeenAccuracy + sorted[i - 1].SeenAccuracy) / 2;
        return area;
    }

    /// <summary>An image's best seen class, best held-out class, and the gap between their scores.</summary>
    static (int Seen, int Unseen, double Gap) Best(float[] scores, IReadOnlyList<bool> isSeenClass)
    {
        int seen = -1, unseen = -1;
        for (int c = 0; c < scores.Length; c++)
            if (isSeenClass[c]) { if (seen < 0 || scores[c] > scores[seen]) seen = c; }
            else if (unseen < 0 || scores[c] > scores[unseen]) unseen = c;
        return (seen, unseen, (double)scores[seen] - scores[unseen]);
    }

    static double Accuracy((int Seen, int Unseen, double Gap)[] best, IReadOnlyList<int> labels, double gamma)
    {
        int right = 0;
        for (int i = 0; i < best.Length; i++)
            if ((gamma > best[i].Gap ? best[i].Unseen : best[i].Seen) == labels[i]) right++;
        return (double)right / best.Length;
    }
}

namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// One sampled solution with what the verifiers said about it. The recipe fills this from the
/// generator's samples, the PRM's per-step probabilities and the ORM's score; selection methods only
/// read it.
/// </summary>
/// <param name="ProblemId">The problem the sample answers.</param>
/// <param name="Text">The sampled solution.</param>
/// <param name="FinalAnswer">Its extracted final answer, or null when it has none.</param>
/// <param name="StepScores">The PRM's probability that each step is correct, in order.</param>
/// <param name="OutcomeScore">The ORM's probability that the final answer is correct.</param>
/// <param name="IsCorrect">Ground truth: whether the final answer is right (used for scoring, never for selecting).</param>
public sealed record SampledSolution(string ProblemId, string Text, string? FinalAnswer, IReadOnlyList<double> StepScores, double OutcomeScore, bool IsCorrect)
{
    /// <summary>
    /// A sample checked against its problem: the final answer and <see cref="IsCorrect"/> come from
    /// <see cref="StepChecker"/>, the scores from the verifiers. <paramref name="stepScores"/> holds one PRM
    /// probability per step as the checker splits the text (each non-empty line, answer line included,
    /// read at <see cref="CheckedStep.End"/>); a different count throws <see cref="ArgumentException"/>,
    /// because misaligned scores would silently score the wrong steps.
    /// </summary>
    public static SampledSolution FromCheck(string problemId, string text, StepCheckReference reference, IReadOnlyList<double> stepScores, double outcomeScore)
    {
        var check = StepChecker.Check(reference, text);
        if (stepScores.Count != check.Steps.Count)
            throw new ArgumentException($"sample of {problemId} has {check.Steps.Count} steps but {stepScores.Count} step scores.");
        return new SampledSolution(problemId, text, check.FinalAnswer, stepScores, outcomeScore, check.IsCorrect);
    }
}

/// <summary>How per-step correctness probabilities become one solution score.</summary>
public enum StepAggregation
{
    /// <summary>The product of the step probabilities: the probability that every step is correct (the paper's choice).</summary>
    Product,
    /// <summary>The lowest step probability: the weakest step.</summary>
    Minimum,
    /// <summary>The last step's probability.</summary>
    LastStep,
}

/// <summary>
/// Solution scores from a PRM's per-step probabilities. A solution with no scored steps gets 0 under
/// every rule (not the empty product 1): a sample with no steps has shown nothing to trust.
/// </summary>
public static class StepScoreAggregation
{
    /// <summary>∏ p_i, the probability that all steps are correct if their errors were independent.</summary>
    public static double Product(IReadOnlyList<double> stepScores)
    {
        if (stepScores.Count == 0) return 0;
        var p = 1.0;
        foreach (var s in stepScores) p *= s;
        return p;
    }

    /// <summary>min p_i.</summary>
    public static double Minimum(IReadOnlyList<double> stepScores) => stepScores.Count == 0 ? 0 : stepScores.Min();

    /// <summary>p_last.</summary>
    public static double LastStep(IReadOnlyList<double> stepScores) => stepScores.Count == 0 ? 0 : stepScores[^1];

    /// <summary>The score under <paramref name="rule"/>.</summary>
    public static double Aggregate(IReadOnlyList<double> stepScores, StepAggregation rule) => rule switch
    {
        StepAggregation.Product => Product(stepScores),
        StepAggregation.Minimum => Minimum(stepScores),
        StepAggregation.LastStep => LastStep(stepScores),
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown aggregation."),
    };
}

/// <summary>
/// Picks one of a problem's samples; null when it cannot pick (no samples, or no sample has an answer).
/// The problem counts as solved when the pick <see cref="SampledSolution.IsCorrect"/>.
/// </summary>
public delegate SampledSolution? SolutionSelector(IReadOnlyList<SampledSolution> samples);

/// <summary>Best-of-N: the sample with the highest score.</summary>
public static class BestOfN
{
    /// <summary>
    /// The sample with the highest <paramref name="score"/>; ties go to the earliest sample, so the
    /// choice never depends on anything but the inputs' order. NaN scores lose to every number.
    /// </summary>
    public static SampledSolution? Select(IReadOnlyList<SampledSolution> samples, Func<SampledSolution, double> score)
    {
        SampledSolution? best = null;
        var bestScore = double.NegativeInfinity;
        foreach (var s in samples)
        {
            var v = score(s);
            if (double.IsNaN(v)) v = double.NegativeInfinity;
            if (best == null || v > bestScore) { best = s; bestScore = v; }
        }
        return best;
    }
}

/// <summary>
/// Majority voting (self-consistency): the most common final answer, answers grouped by
/// <see cref="AnswerEquivalence.CanonicalKey"/> so "0.5" and "1/2" vote together. Samples without an
/// answer do not vote.
/// </summary>
public static class MajorityVote
{
    /// <summary>
    /// The first sample of the answer class with the most votes. Ties go to the class whose first
    /// sample comes earliest in <paramref name="samples"/>; null when no sample has an answer.
    /// </summary>
    public static SampledSolution? Select(IReadOnlyList<SampledSolution> samples) => WeightedVote.Select(samples, _ => 1.0);

    /// <summary>Votes per answer class (keyed by canonical key), in order of first appearance.</summary>
    public static IReadOnlyList<(string Key, SampledSolution First, int Votes)> Tally(IReadOnlyList<SampledSolution> samples) =>
        WeightedVote.Tally(samples, _ => 1.0).Select(t => (t.Key, t.First, (int)t.Weight)).ToArray();
}

/// <summary>
/// Verifier-weighted voting: each answer class gets the sum of its samples' scores (e.g. PRM product),
/// and the class with the largest sum wins. Between majority voting (all weights 1) and best-of-N.
/// </summary>
public static class WeightedVote
{
    /// <summary>
    /// The first sample of the answer class with the largest total <paramref name="weight"/>. Ties go to the
    /// class whose first sample comes earliest; null when no sample has an answer.
    /// </summary>
    public static SampledSolution? Select(IReadOnlyList<SampledSolution> samples, Func<SampledSolution, double> weight)
    {
        SampledSolution? best = null;
        var bestWeight = double.NegativeInfinity;
        foreach (var (_, first, total) in Tally(samples, weight))
            if (best == null || total > bestWeight) { best = first; bestWeight = total; }
        return best;
    }

    /// <summary>Total weight per answer class, in order of first appearance.</summary>
    public static IReadOnlyList<(string Key, SampledSolution First, double Weight)> Tally(IReadOnlyList<SampledSolution> samples, Func<SampledSolution, double> weight)
    {
        var order = new List<string>();
        var classes = new Dictionary<string, (SampledSolution First, double Weight)>();
        foreach (var s in samples)
        {
            var key = AnswerEquivalence.CanonicalKey(s.FinalAnswer);
            if (key == null) continue;
            var w = weight(s);
            if (double.IsNaN(w)) w = 0;
            if (classes.TryGetValue(key, out var c)) classes[key] = (c.First, c.Weight + w);
            else { classes[key] = (s, w); order.Add(key); }
        }
        return order.Select(k => (k, classes[k].First, classes[k].Weight)).ToArray();
    }
}

/// <summary>The selection methods of "Let's Verify Step by Step", Figure 3, under the names results files use.</summary>
public static class SelectionMethods
{
    /// <summary>PRM, product of step probabilities.</summary>
    public const string PrmProduct = "prm_prod";
    /// <summary>PRM, minimum step probability.</summary>
    public const string PrmMinimum = "prm_min";
    /// <summary>PRM, last step probability.</summary>
    public const string PrmLast = "prm_last";
    /// <summary>ORM score.</summary>
    public const string Orm = "orm";
    /// <summary>Majority voting over final answers.</summary>
    public const string Majority = "majority";
    /// <summary>Voting weighted by the PRM product score.</summary>
    public const string PrmWeighted = "prm_weighted";
    /// <summary>An oracle that picks a correct sample whenever there is one (pass@N, the ceiling).</summary>
    public const string Oracle = "oracle";

    /// <summary>Best-of-N by the PRM score under <paramref name="rule"/>.</summary>
    public static SolutionSelector Prm(StepAggregation rule) => s => BestOfN.Select(s, x => StepScoreAggregation.Aggregate(x.StepScores, rule));

    /// <summary>Best-of-N by the ORM score.</summary>
    public static SolutionSelector OutcomeReward => s => BestOfN.Select(s, x => x.OutcomeScore);

    /// <summary>Majority voting.</summary>
    public static SolutionSelector MajorityVoting => MajorityVote.Select;

    /// <summary>PRM-weighted voting (product aggregation).</summary>
    public static SolutionSelector PrmWeightedVoting => s => WeightedVote.Select(s, x => StepScoreAggregation.Product(x.StepScores));

    /// <summary>The first correct sample, else the first sample: how often any of N samples is right.</summary>
    public static SolutionSelector OracleSelector => s => s.FirstOrDefault(x => x.IsCorrect) ?? s.FirstOrDefault();

    /// <summary>
    /// The paper's six methods under the names <c>results.json</c> uses: prm_prod, prm_min, prm_last,
    /// orm, majority, prm_weighted (in that order).
    /// </summary>
    public static IReadOnlyList<(string Name, SolutionSelector Selector)> Standard() =>
    [
        (PrmProduct, Prm(StepAggregation.Product)),
        (PrmMinimum, Prm(StepAggregation.Minimum)),
        (PrmLast, Prm(StepAggregation.LastStep)),
        (Orm, OutcomeReward),
        (Majority, MajorityVoting),
        (PrmWeighted, PrmWeightedVoting),
    ];
}

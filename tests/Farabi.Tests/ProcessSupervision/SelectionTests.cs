using Farabi.Research.ProcessSupervision;
using Xunit;

namespace Farabi.Tests.ProcessSupervision;

public sealed class SelectionTests
{
    static SampledSolution S(string? answer, bool correct, double[]? steps = null, double orm = 0) =>
        new("p", $"answer: {answer}", answer, steps ?? [], orm, correct);

    [Fact]
    public void Aggregations_match_their_definitions()
    {
        double[] p = [0.9, 0.5, 0.8];
        Assert.Equal(0.36, StepScoreAggregation.Product(p), 12);
        Assert.Equal(0.5, StepScoreAggregation.Minimum(p));
        Assert.Equal(0.8, StepScoreAggregation.LastStep(p));
        Assert.Equal(0.36, StepScoreAggregation.Aggregate(p, StepAggregation.Product), 12);
        Assert.Equal(0.5, StepScoreAggregation.Aggregate(p, StepAggregation.Minimum));
        Assert.Equal(0.8, StepScoreAggregation.Aggregate(p, StepAggregation.LastStep));
        foreach (var rule in Enum.GetValues<StepAggregation>()) Assert.Equal(0, StepScoreAggregation.Aggregate([], rule));
    }

    [Fact]
    public void Product_penalises_length_where_minimum_does_not()
    {
        double[] shortSolution = [0.9, 0.9];
        double[] longSolution = [0.9, 0.9, 0.9, 0.9];
        Assert.True(StepScoreAggregation.Product(shortSolution) > StepScoreAggregation.Product(longSolution));
        Assert.Equal(StepScoreAggregation.Minimum(shortSolution), StepScoreAggregation.Minimum(longSolution));
    }

    [Fact]
    public void Best_of_n_picks_the_highest_score_and_the_earliest_on_ties()
    {
        var a = S("1", false, orm: 0.3);
        var b = S("2", true, orm: 0.7);
        var c = S("3", false, orm: 0.7);
        Assert.Same(b, BestOfN.Select([a, b, c], x => x.OutcomeScore));
        Assert.Same(b, SelectionMethods.OutcomeReward([a, b, c]));
        Assert.Same(a, BestOfN.Select([a, S("9", false, orm: double.NaN)], x => x.OutcomeScore));
        Assert.Null(BestOfN.Select([], x => x.OutcomeScore));
    }

    [Fact]
    public void Prm_selectors_use_their_aggregation()
    {
        var steady = S("1", true, [0.8, 0.8, 0.8]);   // product 0.512, min 0.8, last 0.8
        var spiky = S("2", false, [0.99, 0.6, 0.95]); // product 0.564, min 0.6, last 0.95
        Assert.Same(spiky, SelectionMethods.Prm(StepAggregation.Product)([steady, spiky]));
        Assert.Same(steady, SelectionMethods.Prm(StepAggregation.Minimum)([steady, spiky]));
        Assert.Same(spiky, SelectionMethods.Prm(StepAggregation.LastStep)([steady, spiky]));
    }

    [Fact]
    public void Majority_vote_groups_equivalent_answers()
    {
        var samples = new[] { S("3", false), S("0.5", true), S("1/2", true), S("3", false), S("\\frac{1}{2}", true), S(null, false) };
        var pick = MajorityVote.Select(samples)!;
        Assert.Equal("0.5", pick.FinalAnswer);
        var tally = MajorityVote.Tally(samples);
        Assert.Equal([("num:3/1", 2), ("num:1/2", 3)], tally.Select(t => (t.Key, t.Votes)));
    }

    [Fact]
    public void Majority_vote_ties_go_to_the_answer_seen_first()
    {
        Assert.Equal("7", MajorityVote.Select([S("7", false), S("8", true), S("8", true), S("7", false)])!.FinalAnswer);
        Assert.Equal("8", MajorityVote.Select([S("8", true), S("7", false), S("8", true), S("7", false)])!.FinalAnswer);
        Assert.Null(MajorityVote.Select([S(null, false), S("", false)]));
    }

    [Fact]
    public void Weighted_vote_sums_scores_per_answer()
    {
        // Two weak votes for 5 (0.3 + 0.3 = 0.6) lose to one confident vote for 6 (0.9); majority says 5.
        var samples = new[] { S("5", false, [0.3]), S("6", true, [0.9]), S("5.0", false, [0.3]) };
        Assert.Equal("6", SelectionMethods.PrmWeightedVoting(samples)!.FinalAnswer);
        Assert.Equal("5", SelectionMethods.MajorityVoting(samples)!.FinalAnswer);
        var tally = WeightedVote.Tally(samples, x => x.StepScores[0]);
        Assert.Equal(0.6, tally[0].Weight, 12);
    }

    [Fact]
    public void Sample_from_check_takes_answer_and_correctness_from_the_checker()
    {
        var p = new ArithmeticProblemGenerator(seed: 9).Next();
        var scores = Enumerable.Repeat(0.9, p.Steps.Count + 1).ToArray(); // one per step line plus the answer line
        var good = SampledSolution.FromCheck(p.Id, p.Solution, p.Reference, scores, 0.8);
        Assert.True(good.IsCorrect);
        Assert.Equal(p.Answer.ToString(), good.FinalAnswer);
        var bad = SampledSolution.FromCheck(p.Id, new SolutionCorruptor(1).Corrupt(p, MistakeKind.ResultSlip).Text, p.Reference, scores, 0.8);
        Assert.False(bad.IsCorrect);
        Assert.Throws<ArgumentException>(() => SampledSolution.FromCheck(p.Id, p.Solution, p.Reference, [0.9], 0.8));
        Assert.StartsWith(p.Statement + "\n", p.TrainingText);
        Assert.EndsWith(p.Solution, p.TrainingText);
    }

    [Fact]
    public void Standard_methods_have_the_results_json_names()
    {
        Assert.Equal(["prm_prod", "prm_min", "prm_last", "orm", "majority", "prm_weighted"], SelectionMethods.Standard().Select(m => m.Name));
    }
}

public sealed class SubsetResamplingTests
{
    static SampledSolution S(int problem, int i, bool correct, string? answer = null, double score = 0) =>
        new($"p{problem}", "", answer ?? (correct ? "1" : $"w{i}"), [score], score, correct);

    static readonly (string, SolutionSelector)[] OracleOnly = [("oracle", SelectionMethods.OracleSelector)];

    [Fact]
    public void Powers_of_two_end_at_n_max()
    {
        Assert.Equal([1, 2, 4, 8], SubsetResampling.PowersOfTwo(8));
        Assert.Equal([1, 2, 4, 8, 10], SubsetResampling.PowersOfTwo(10));
        Assert.Equal([1], SubsetResampling.PowersOfTwo(1));
    }

    [Fact]
    public void All_correct_samples_solve_everything_at_every_n()
    {
        var problems = Enumerable.Range(0, 10).Select(p => (IReadOnlyList<SampledSolution>)Enumerable.Range(0, 16).Select(i => S(p, i, true, score: i / 16.0)).ToArray()).ToArray();
        foreach (var curve in SubsetResampling.Curves(problems, SelectionMethods.Standard(), new() { Resamples = 20 }))
        {
            Assert.Equal([1, 2, 4, 8, 16], curve.N);
            Assert.All(curve.PercentSolved, v => Assert.Equal(100, v));
            Assert.All(curve.Lower, v => Assert.Equal(100, v));
        }
    }

    [Fact]
    public void Oracle_with_one_correct_sample_of_n_max_solves_n_over_n_max()
    {
        const int nMax = 8;
        var rng = new Random(1);
        var problems = Enumerable.Range(0, 100).Select(p =>
        {
            var correctAt = rng.Next(nMax);
            return (IReadOnlyList<SampledSolution>)Enumerable.Range(0, nMax).Select(i => S(p, i, i == correctAt)).ToArray();
        }).ToArray();
        var curve = SubsetResampling.Curves(problems, OracleOnly, new() { Resamples = 300, Seed = 2 })[0];
        for (var j = 0; j < curve.N.Count; j++)
        {
            var expected = 100.0 * curve.N[j] / nMax;
            Assert.InRange(curve.PercentSolved[j], expected - 1.5, expected + 1.5);
            Assert.True(curve.Lower[j] <= curve.PercentSolved[j] && curve.PercentSolved[j] <= curve.Upper[j]);
        }
        Assert.True(curve.Upper[0] - curve.Lower[0] > 2, "a single-sample point varies across subsets");
        Assert.Equal(curve.Lower[^1], curve.Upper[^1]); // N = N_max: every subset is the full list
    }

    [Fact]
    public void Majority_vote_curve_matches_the_exact_probability()
    {
        // Each problem: 3 samples say the right answer "1", 1 says "2". With N = 2 the majority is
        // right unless the subset is {right, wrong} with the wrong one first in order... ties go to the
        // earlier sample, so the exact chance is 1 − P(wrong sample first in a mixed pair).
        var problems = Enumerable.Range(0, 200).Select(p => (IReadOnlyList<SampledSolution>)new[]
        {
            S(p, 0, false, "2"), S(p, 1, true, "1"), S(p, 2, true, "1"), S(p, 3, true, "1"),
        }).ToArray();
        var curve = SubsetResampling.Curves(problems, [("majority", SelectionMethods.MajorityVoting)], new() { Resamples = 100, Seed = 3 })[0];
        Assert.InRange(curve.PercentSolved[0], 73, 77);   // N=1: 3/4
        Assert.InRange(curve.PercentSolved[1], 48, 52);   // N=2: pairs containing sample 0 (3 of 6) are won by "2"
        Assert.Equal(100, curve.PercentSolved[2]);        // N=4: 3 votes to 1
    }

    [Fact]
    public void Same_seed_same_curve_and_methods_share_subsets()
    {
        var rng = new Random(4);
        var problems = Enumerable.Range(0, 30).Select(p => (IReadOnlyList<SampledSolution>)Enumerable.Range(0, 8)
            .Select(i => S(p, i, rng.NextDouble() < 0.4, score: rng.NextDouble())).ToArray()).ToArray();
        var a = SubsetResampling.Curves(problems, SelectionMethods.Standard(), new() { Resamples = 20, Seed = 9 });
        var b = SubsetResampling.Curves(problems, SelectionMethods.Standard(), new() { Resamples = 20, Seed = 9 });
        Assert.Equal(a.SelectMany(c => c.PercentSolved), b.SelectMany(c => c.PercentSolved));
        // The oracle bounds every method on each shared subset, so also on average.
        var withOracle = SubsetResampling.Curves(problems, [.. SelectionMethods.Standard(), ("oracle", SelectionMethods.OracleSelector)], new() { Resamples = 20, Seed = 9 });
        for (var j = 0; j < withOracle[0].N.Count; j++)
            foreach (var c in withOracle.Take(6)) Assert.True(c.PercentSolved[j] <= withOracle[6].PercentSolved[j] + 1e-9);
        var json = SubsetResampling.ToResultsJson(a);
        Assert.Equal(4, json["n"]!.AsArray().Count);
        Assert.Equal(4, json["prm_weighted"]!.AsArray().Count);
        Assert.NotNull(json["interval95"]!["orm"]!["lower"]);
    }

    [Fact]
    public void Paired_differences_resample_problems_and_keep_each_problem_paired()
    {
        // Half the problems: the oracle solves them and a first-sample pick does not (the right sample is second);
        // the other half: both solve them. At N = 2 the oracle is ahead by 50 points on average.
        var problems = Enumerable.Range(0, 40).Select(p => (IReadOnlyList<SampledSolution>)(p % 2 == 0
            ? [S(p, 0, false), S(p, 1, true)]
            : [S(p, 0, true), S(p, 1, true)])).ToArray();
        SolutionSelector first = s => s[0];
        var curves = SubsetResampling.Curves(problems, [("oracle", SelectionMethods.OracleSelector), ("first", first)], new() { Resamples = 5 });
        Assert.Equal(50, curves[0].PerProblem![1].Average() * 100 - curves[1].PerProblem![1].Average() * 100, 6);
        var d = SubsetResampling.PairedDifference(curves[0], curves[1], 1, bootstraps: 500, seed: 1);
        Assert.Equal(curves[0].PercentSolved[1] - curves[1].PercentSolved[1], d.Difference, 6);
        Assert.Equal(2, d.N);
        Assert.True(d.Lower > 25 && d.Upper < 75 && d.Lower < 50 && d.Upper > 50, $"{d.Lower}..{d.Upper}");
        // A method against itself differs by exactly nothing on every resample of problems.
        var same = SubsetResampling.PairedDifference(curves[1], curves[1], 1);
        Assert.Equal((0.0, 0.0, 0.0), (same.Difference, same.Lower, same.Upper));
        // At N = 1 both pick the one sample drawn: no difference on any problem.
        var one = SubsetResampling.PairedDifference(curves[0], curves[1], 0);
        Assert.Equal((0.0, 0.0, 0.0), (one.Difference, one.Lower, one.Upper));
        // Curves without per-problem results cannot be paired.
        var bare = curves[0] with { PerProblem = null };
        Assert.Throws<ArgumentException>(() => SubsetResampling.PairedDifference(bare, curves[1], 1));
    }

    [Fact]
    public void Impossible_requests_are_rejected()
    {
        IReadOnlyList<SampledSolution>[] problems = [[S(0, 0, true), S(0, 1, false)]];
        Assert.Throws<ArgumentException>(() => SubsetResampling.Curves(problems, OracleOnly, new() { Ns = [4] }));
        Assert.Throws<ArgumentException>(() => SubsetResampling.Curves([], OracleOnly));
        Assert.Throws<ArgumentException>(() => SubsetResampling.Curves([[]], OracleOnly));
    }
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Models;
using Farabi.Tokenizers;

namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// The sampled solutions of one problem, as a line of a samples file: the statement, true answer and
/// canonical solution (enough to rebuild the checker's reference), the split (<c>train</c> problems feed the
/// verifiers, <c>test</c> problems are held out for best-of-N), and the generator's samples.
/// </summary>
public sealed record ProblemSamples(string Id, string Split, string Statement, string Answer, string Reference, IReadOnlyList<string> Samples)
{
    /// <summary>What the generator was conditioned on.</summary>
    public string Prompt => Statement + "\n";

    /// <summary>The checker's reference for this problem.</summary>
    public StepCheckReference CheckReference => _reference ??= StepCheckReference.FromText(Statement, Answer, Reference);
    StepCheckReference? _reference;

    /// <summary>Each sample checked against <see cref="CheckReference"/>.</summary>
    public IReadOnlyList<SolutionCheck> Checks => _checks ??= Samples.Select(s => StepChecker.Check(CheckReference, s)).ToArray();
    IReadOnlyList<SolutionCheck>? _checks;

    /// <summary>One JSON line.</summary>
    public string ToJsonLine() => new JsonObject
    {
        ["id"] = Id, ["split"] = Split, ["problem"] = Statement, ["answer"] = Answer, ["reference"] = Reference,
        ["samples"] = new JsonArray(Samples.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
    }.ToJsonString();

    /// <summary>Writes a samples file atomically.</summary>
    public static void WriteFile(string path, IEnumerable<ProblemSamples> problems) => AtomicFile.Write(path, s =>
    {
        using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        foreach (var p in problems) w.WriteLine(p.ToJsonLine());
    });

    /// <summary>Reads a samples file; a line without the fields throws <see cref="InvalidDataException"/> naming it.</summary>
    public static IReadOnlyList<ProblemSamples> ReadFile(string path) => JsonLines.Read(path, (line, e) =>
    {
        string Get(string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()! : throw new InvalidDataException($"{path}:{line}: missing string field \"{key}\".");
        if (!e.TryGetProperty("samples", out var samples) || samples.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}:{line}: missing array field \"samples\".");
        return new ProblemSamples(Get("id"), Get("split"), Get("problem"), Get("answer"), Get("reference"),
            samples.EnumerateArray().Select(s => s.GetString() ?? "").ToArray());
    }).ToArray();
}

/// <summary>Sizes of a sampling run.</summary>
public sealed record SamplingPlan
{
    /// <summary>Problems whose samples train the verifiers.</summary>
    public int TrainProblems { get; init; } = 1024;
    /// <summary>Samples per training problem.</summary>
    public int TrainSamples { get; init; } = 16;
    /// <summary>Held-out problems for best-of-N.</summary>
    public int TestProblems { get; init; } = 256;
    /// <summary>Samples per held-out problem (N_max).</summary>
    public int TestSamples { get; init; } = 64;
    /// <summary>Sampling temperature.</summary>
    public double Temperature { get; init; } = 0.8;
    /// <summary>Most bytes per solution.</summary>
    public int MaxNewTokens { get; init; } = 100;
    /// <summary>The problems (should match the generator's training distribution).</summary>
    public ArithmeticProblemOptions Problems { get; init; } = SolutionGeneratorOptions.DefaultProblems;
    /// <summary>Seed of problems and draws; a seed unlike the generator's keeps the problems unseen in training.</summary>
    public int Seed { get; init; } = 1000;
}

/// <summary>
/// The parts of the best-of-N experiment between the generator and the curve: sampling problems,
/// turning samples into verifier examples, and scoring held-out samples with both verifiers.
/// </summary>
public static class BestOfNPipeline
{
    /// <summary>
    /// Fresh problems (train ones first, then test ones) with <paramref name="generator"/>'s samples;
    /// <paramref name="onProblem"/> is told each finished problem's index.
    /// </summary>
    public static IReadOnlyList<ProblemSamples> Sample(CausalLanguageModel generator, SamplingPlan plan, Action<int>? onProblem = null)
    {
        var problems = new ArithmeticProblemGenerator(plan.Problems, plan.Seed).Generate(plan.TrainProblems + plan.TestProblems);
        var result = new List<ProblemSamples>(problems.Count);
        for (var i = 0; i < problems.Count; i++)
        {
            var p = problems[i];
            var train = i < plan.TrainProblems;
            var texts = SolutionGenerator.Sample(generator, p.Prompt, train ? plan.TrainSamples : plan.TestSamples, plan.Temperature, plan.MaxNewTokens, plan.Seed * 100_003L + i);
            result.Add(new ProblemSamples(p.Id, train ? "train" : "test", p.Statement, p.Answer.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Solution, texts));
            onProblem?.Invoke(i);
        }
        return result;
    }

    /// <summary>Verifier examples of <paramref name="kind"/> from every sample of the <c>train</c> problems.</summary>
    public static IReadOnlyList<VerifierExample> Examples(VerifierKind kind, IEnumerable<ProblemSamples> problems) =>
        problems.Where(p => p.Split == "train")
            .SelectMany(p => p.Samples.Select((s, i) => VerifierExample.From(kind, p.Prompt, s, p.Checks[i])))
            .ToArray();

    /// <summary>
    /// Every <c>test</c> problem's samples scored by <paramref name="prm"/> (per step) and <paramref name="orm"/>
    /// (per solution), ready for <see cref="SubsetResampling.Curves"/>.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<SampledSolution>> Score(IEnumerable<ProblemSamples> problems, StepVerifier prm, StepVerifier orm, Action<int>? onProblem = null)
    {
        if (prm.Kind != VerifierKind.Process) throw new ArgumentException("the PRM given is an outcome verifier.");
        if (orm.Kind != VerifierKind.Outcome) throw new ArgumentException("the ORM given is a process verifier.");
        var result = new List<IReadOnlyList<SampledSolution>>();
        foreach (var p in problems.Where(p => p.Split == "test"))
        {
            var steps = prm.Score(p.Prompt, p.Samples, p.CheckReference);
            var outcome = orm.Score(p.Prompt, p.Samples, p.CheckReference);
            result.Add(p.Samples.Select((s, i) => SampledSolution.FromCheck(p.Id, s, p.CheckReference, steps[i], outcome[i].Length > 0 ? outcome[i][0] : 0)).ToArray());
            onProblem?.Invoke(result.Count);
        }
        return result;
    }

    /// <summary>
    /// Writes <paramref name="scored"/> (from <see cref="Score"/>) atomically as JSON lines, one problem a line:
    /// <c>id</c> and per sample its <c>text</c>, <c>correct</c>, <c>answer</c>, the PRM's <c>steps</c> and the ORM's
    /// <c>orm</c> probability, so a run's selections can be inspected or re-aggregated without scoring again.
    /// </summary>
    public static void WriteScores(string path, IReadOnlyList<IReadOnlyList<SampledSolution>> scored) => AtomicFile.Write(path, s =>
    {
        using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        foreach (var problem in scored)
            w.WriteLine(new JsonObject
            {
                ["id"] = problem.Count > 0 ? problem[0].ProblemId : "",
                ["samples"] = new JsonArray(problem.Select(x => (JsonNode)new JsonObject
                {
                    ["text"] = x.Text, ["correct"] = x.IsCorrect, ["answer"] = x.FinalAnswer,
                    ["steps"] = new JsonArray(x.StepScores.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()), ["orm"] = Math.Round(x.OutcomeScore, 5),
                }).ToArray()),
            }.ToJsonString());
    });

    /// <summary>
    /// How well the scores of <see cref="Score"/> separate right from wrong on the held-out samples: the PRM per
    /// labelled step (steps up to the first error), and per solution the PRM's product of step probabilities
    /// and the ORM's probability against <see cref="SampledSolution.IsCorrect"/> (the comparison best-of-N makes).
    /// <paramref name="scored"/> must be <see cref="Score"/>'s result for the <c>test</c> problems of <paramref name="problems"/>.
    /// </summary>
    public static (double PrmStepAuc, double PrmSolutionAuc, double OrmSolutionAuc) HeldOutRocAuc(IEnumerable<ProblemSamples> problems, IReadOnlyList<IReadOnlyList<SampledSolution>> scored)
    {
        var test = problems.Where(p => p.Split == "test").ToArray();
        if (test.Length != scored.Count) throw new ArgumentException($"{scored.Count} scored problems for {test.Length} test problems.");
        var stepScores = new List<double>();
        var stepLabels = new List<bool>();
        var prmScores = new List<double>();
        var ormScores = new List<double>();
        var correct = new List<bool>();
        for (var p = 0; p < test.Length; p++)
        {
            for (var i = 0; i < scored[p].Count; i++)
            {
                var s = scored[p][i];
                var check = test[p].Checks[i];
                for (var k = 0; k < check.Steps.Count; k++)
                {
                    if (!check.LabelMask[k]) continue;
                    stepScores.Add(s.StepScores[k]);
                    stepLabels.Add(check.StepLabels[k] == 1);
                }
                prmScores.Add(StepScoreAggregation.Product(s.StepScores));
                ormScores.Add(s.OutcomeScore);
                correct.Add(s.IsCorrect);
            }
        }
        return (VerifierEvaluation.RankRocAuc(stepScores, stepLabels), VerifierEvaluation.RankRocAuc(prmScores, correct), VerifierEvaluation.RankRocAuc(ormScores, correct));
    }

    /// <summary>Share of samples that are correct, and the share of problems with at least one correct sample (the oracle at N_max).</summary>
    public static (double SampleAccuracy, double Coverage) Accuracy(IEnumerable<ProblemSamples> problems)
    {
        var list = problems.ToArray();
        var samples = list.Sum(p => p.Samples.Count);
        if (samples == 0) return (0, 0);
        return ((double)list.Sum(p => p.Checks.Count(c => c.IsCorrect)) / samples, (double)list.Count(p => p.Checks.Any(c => c.IsCorrect)) / list.Length);
    }
}

/// <summary>How well a verifier separates right from wrong on held-out samples.</summary>
/// <param name="Targets">Labelled targets scored (masked-in steps for a PRM, solutions for an ORM).</param>
/// <param name="Positives">Targets labelled correct.</param>
/// <param name="RocAuc">Probability that a random correct target outscores a random wrong one (ties count half); NaN without both classes.</param>
/// <param name="Accuracy">Share of targets on the right side of 0.5.</param>
public sealed record VerifierEvaluation(int Targets, int Positives, double RocAuc, double Accuracy)
{
    /// <summary>Scores the <c>test</c> problems' samples (at most <paramref name="maxProblems"/>) with <paramref name="verifier"/> against the checker's labels.</summary>
    public static VerifierEvaluation Of(StepVerifier verifier, IEnumerable<ProblemSamples> problems, int maxProblems = int.MaxValue)
    {
        var scores = new List<double>();
        var labels = new List<bool>();
        foreach (var p in problems.Where(p => p.Split == "test").Take(maxProblems))
        {
            var probs = verifier.Score(p.Prompt, p.Samples, p.CheckReference);
            for (var i = 0; i < p.Samples.Count; i++)
            {
                var e = VerifierExample.From(verifier.Kind, p.Prompt, p.Samples[i], p.Checks[i]);
                for (var s = 0; s < e.Positions.Length; s++)
                {
                    if (!e.Mask[s]) continue;
                    scores.Add(probs[i][s]);
                    labels.Add(e.Targets[s] > 0.5f);
                }
            }
        }
        var accuracy = scores.Count == 0 ? double.NaN : scores.Zip(labels).Count(x => x.First >= 0.5 == x.Second) / (double)scores.Count;
        return new VerifierEvaluation(scores.Count, labels.Count(l => l), RankRocAuc(scores, labels), accuracy);
    }

    /// <summary>ROC-AUC by ranks (Mann–Whitney U), ties counted half; NaN when a class is missing (<see cref="RankStatistics.RocAuc"/>).</summary>
    public static double RankRocAuc(IReadOnlyList<double> scores, IReadOnlyList<bool> positive) => RankStatistics.RocAuc(scores, positive);
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Farabi.Research.ProcessSupervision;

/// <summary>Settings of a generated process-supervision data set.</summary>
public sealed record PrmDatasetOptions
{
    /// <summary>Difficulty of the problems.</summary>
    public ArithmeticProblemOptions Problems { get; init; } = new();

    /// <summary>Number of problems (one solution each).</summary>
    public int Count { get; init; } = 1000;

    /// <summary>Share of solutions that carry one deliberate mistake (0..1).</summary>
    public double CorruptShare { get; init; } = 0.3;

    /// <summary>Seed of problems, of which solutions are corrupted, and of the mistakes.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// One record of a generated data set: a problem, the solution a generator is trained on (canonical,
/// or corrupted with one mistake carried forward), and the checker's labels for that solution.
/// </summary>
/// <param name="Id">The problem's id.</param>
/// <param name="Problem">The word problem.</param>
/// <param name="Solution">The training solution.</param>
/// <param name="Answer">The true answer.</param>
/// <param name="FinalAnswer">The answer <paramref name="Solution"/> reaches.</param>
/// <param name="Reference">The canonical solution (equal to <paramref name="Solution"/> when not corrupted).</param>
/// <param name="Mistake">The mistake made, or null for a canonical solution.</param>
/// <param name="MistakeStep">The step that holds it, or null.</param>
/// <param name="Check">The step checker's verdicts and labels for <paramref name="Solution"/>.</param>
public sealed record PrmDataRecord(string Id, string Problem, string Solution, string Answer, string? FinalAnswer, string Reference,
    MistakeKind? Mistake, int? MistakeStep, SolutionCheck Check)
{
    /// <summary>True when the solution carries a deliberate mistake.</summary>
    public bool Corrupted => Mistake != null;

    /// <summary>
    /// One JSON line: <c>id, problem, solution, answer, final_answer, reference, corrupted,
    /// mistake, mistake_step, step_labels</c> (+1 / −1 / 0 masked, one per solution line, answer line included).
    /// </summary>
    public string ToJsonLine() => ToJson().ToJsonString(LineOptions);

    // Solutions are full of '+' and '<'; the default encoder would write them as \u002B, unreadable in a JSONL file.
    static readonly JsonSerializerOptions LineOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The record as a JSON object (see <see cref="ToJsonLine"/> for the fields).</summary>
    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["problem"] = Problem,
        ["solution"] = Solution,
        ["answer"] = Answer,
        ["final_answer"] = FinalAnswer,
        ["reference"] = Reference,
        ["corrupted"] = Corrupted,
        ["mistake"] = Mistake?.ToString(),
        ["mistake_step"] = MistakeStep,
        ["step_labels"] = new JsonArray(Check.StepLabels.Select(l => (JsonNode)l).ToArray()),
    };
}

/// <summary>Counts over checked solutions: what <c>farabi prm data --check</c> prints.</summary>
public sealed partial class StepLabelStatistics
{
    /// <summary>Solutions checked.</summary>
    public int Solutions { get; private set; }
    /// <summary>Steps (lines) checked, answer lines included.</summary>
    public int Steps { get; private set; }
    /// <summary>Steps per verdict.</summary>
    public Dictionary<StepVerdict, int> Verdicts { get; } = Enum.GetValues<StepVerdict>().ToDictionary(v => v, _ => 0);
    /// <summary>Training labels: +1, −1, and 0 (masked after the first error).</summary>
    public Dictionary<int, int> Labels { get; } = new() { [1] = 0, [-1] = 0, [0] = 0 };
    /// <summary>Solutions per outcome.</summary>
    public Dictionary<SolutionOutcome, int> Outcomes { get; } = Enum.GetValues<SolutionOutcome>().ToDictionary(v => v, _ => 0);
    /// <summary>Reasons of wrong and malformed steps with numbers replaced by "n", most frequent first.</summary>
    public Dictionary<string, int> Reasons { get; } = [];
    /// <summary>Solutions whose stored <c>step_labels</c> differ from the checker's (when the input has them).</summary>
    public int LabelMismatches { get; private set; }
    /// <summary>Solutions that had stored <c>step_labels</c> to compare.</summary>
    public int LabelsCompared { get; private set; }

    /// <summary>Adds one checked solution, with the labels stored beside it when there are any.</summary>
    public void Add(SolutionCheck check, IReadOnlyList<int>? storedLabels = null)
    {
        Solutions++;
        Steps += check.Steps.Count;
        foreach (var s in check.Steps)
        {
            Verdicts[s.Verdict]++;
            if (s.Reason != null)
            {
                var key = $"{s.Verdict.ToString().ToLowerInvariant()}: {Digits().Replace(s.Reason, "n")}";
                Reasons[key] = Reasons.GetValueOrDefault(key) + 1;
            }
        }
        foreach (var l in check.StepLabels) Labels[l]++;
        Outcomes[check.Outcome]++;
        if (storedLabels != null)
        {
            LabelsCompared++;
            if (!storedLabels.SequenceEqual(check.StepLabels)) LabelMismatches++;
        }
    }

    [GeneratedRegex(@"\d+(?:\.\d+)?")]
    private static partial Regex Digits();
}

/// <summary>
/// Builds the built-in data set of process supervision (problems with canonical or corrupted
/// solutions and their step labels) and reads JSON-lines files of solutions to check.
/// </summary>
public static class PrmDataset
{
    /// <summary>The records of a generated data set; exactly round(Count × CorruptShare) solutions are corrupted, at random positions.</summary>
    public static IEnumerable<PrmDataRecord> Generate(PrmDatasetOptions options)
    {
        if (options.Count < 0) throw new ArgumentException($"Count must be at least 0, not {options.Count}.");
        if (options.CorruptShare is < 0 or > 1 || double.IsNaN(options.CorruptShare))
            throw new ArgumentException($"CorruptShare must be between 0 and 1, not {options.CorruptShare.ToString(CultureInfo.InvariantCulture)}.");
        var generator = new ArithmeticProblemGenerator(options.Problems, options.Seed);
        var corruptor = new SolutionCorruptor(unchecked(options.Seed * 31 + 17));
        // Choosing an exact number of positions (rather than a coin per problem) makes the share exact.
        var pick = new Random(unchecked(options.Seed * 31 + 5));
        var corrupted = Enumerable.Range(0, options.Count).OrderBy(_ => pick.Next()).Take((int)Math.Round(options.Count * options.CorruptShare)).ToHashSet();
        return Records();

        IEnumerable<PrmDataRecord> Records()
        {
            for (var i = 0; i < options.Count; i++)
            {
                var p = generator.Next();
                var answer = p.Answer.ToString(CultureInfo.InvariantCulture);
                if (corrupted.Contains(i))
                {
                    var c = corruptor.Corrupt(p);
                    yield return new PrmDataRecord(p.Id, p.Statement, c.Text, answer, c.FinalAnswer.ToString(CultureInfo.InvariantCulture),
                        p.Solution, c.Mistake, c.StepIndex, StepChecker.Check(p.Reference, c.Text));
                }
                else
                {
                    yield return new PrmDataRecord(p.Id, p.Statement, p.Solution, answer, answer, p.Solution, null, null, StepChecker.Check(p.Reference, p.Solution));
                }
            }
        }
    }

    /// <summary>
    /// Checks every line of a JSON-lines file of solutions: <c>problem</c>, <c>answer</c> and <c>solution</c>
    /// (the text to check) are required; <c>reference</c> (a canonical solution, whose step results are
    /// the needed quantities) and <c>step_labels</c> (compared with the checker's) are optional. Yields
    /// each line's number, check and stored labels. Malformed lines throw <see cref="InvalidDataException"/>
    /// naming the file and line.
    /// </summary>
    public static IEnumerable<(int Line, SolutionCheck Check, IReadOnlyList<int>? StoredLabels)> CheckFile(string path) =>
        JsonLines.Read(path, (line, o) =>
        {
            var problem = JsonLines.String(o, "problem", path, line);
            var answer = o.TryGetProperty("answer", out var a) && a.ValueKind is JsonValueKind.String or JsonValueKind.Number
                ? (a.ValueKind == JsonValueKind.String ? a.GetString()! : a.GetRawText())
                : throw new InvalidDataException($"{path}:{line}: field \"answer\" is missing or not a string or number.");
            var solution = JsonLines.String(o, "solution", path, line);
            var reference = JsonLines.OptionalString(o, "reference", path, line);
            int[]? stored = null;
            if (o.TryGetProperty("step_labels", out var labels) && labels.ValueKind == JsonValueKind.Array)
                stored = labels.EnumerateArray().Select(l => l.ValueKind == JsonValueKind.Number && l.TryGetInt32(out var v) ? v
                    : throw new InvalidDataException($"{path}:{line}: \"step_labels\" must hold integers.")).ToArray();
            var check = StepChecker.Check(StepCheckReference.FromText(problem, answer, reference), solution);
            return (line, check, (IReadOnlyList<int>?)stored);
        });
}

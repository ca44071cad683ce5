using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Farabi.Research.ProcessSupervision;
using Farabi.Tokenizers;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi prm ...</c>: process supervision ("Let's Verify Step by Step"). <c>data</c> writes the
/// built-in arithmetic data set or checks a file of sampled solutions; the generator, verifier and
/// best-of-N verbs join the group through <see cref="Create"/>'s list.
/// </summary>
static partial class PrmCommands
{
    /// <summary>The verbs of the group; add new ones here.</summary>
    public static Command Create()
    {
        var group = new Command("prm", "Process supervision: step-labelled data, process/outcome reward models, best-of-N.");
        group.Subcommands.Add(Data());
        group.Subcommands.Add(Prm800k());
        foreach (var verb in PipelineVerbs()) group.Subcommands.Add(verb);
        return group;
    }

    static Command Data()
    {
        var steps = new Option<string>("--steps") { Description = "Calculations per solution: N or MIN..MAX.", DefaultValueFactory = _ => "2..4" };
        var digits = new Option<int>("--digits") { Description = "Digits of the amounts the problems state.", DefaultValueFactory = _ => 2 };
        var count = new Option<int>("--count") { Description = "Number of problems.", DefaultValueFactory = _ => 1000 };
        var corruptShare = new Option<double>("--corrupt-share") { Description = "Share of solutions with one deliberate mistake carried forward (0..1).", DefaultValueFactory = _ => 0.3 };
        var seed = new Option<int>("--seed") { Description = "Seed of problems and mistakes.", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "The JSONL file to write (default: data.jsonl in a new runs/prm-data-<time>/ folder)." };
        var check = new Option<string?>("--check") { Description = "Instead of generating, check the solutions of a JSONL FILE (fields problem, answer, solution; optional reference, step_labels) and print label statistics. Without a reference solution only arithmetic and the use of known numbers are checked." };
        var gsm8k = new Option<string?>("--gsm8k") { Description = "Instead of generating, audit the <<a*b=c>> calculator notes of a GSM8K JSONL FILE and print what the checker finds." };
        var cmd = new Command("data", "Write the built-in step-labelled arithmetic data set (JSONL), or check a file of sampled solutions.")
            { steps, digits, count, corruptShare, seed, output, check, gsm8k };
        cmd.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var checkPath = parse.GetValue(check);
            if (checkPath != null) return CheckFile(checkPath, stdout);
            var gsm8kPath = parse.GetValue(gsm8k);
            if (gsm8kPath != null) return AuditGsm8k(gsm8kPath, stdout);
            var (minSteps, maxSteps) = ParseSteps(parse.GetValue(steps)!);
            if (minSteps < 1 || maxSteps < minSteps || maxSteps > 32) throw new UserError($"--steps must lie within 1..32 with MIN <= MAX, not {minSteps}..{maxSteps}.");
            if (parse.GetValue(digits) is < 1 or > 6) throw new UserError($"--digits must be between 1 and 6, not {parse.GetValue(digits)}.");
            if (parse.GetValue(count) < 1) throw new UserError($"--count must be at least 1, not {parse.GetValue(count)}.");
            if (parse.GetValue(corruptShare) is < 0 or > 1 or double.NaN)
                throw new UserError($"--corrupt-share must be between 0 and 1, not {parse.GetValue(corruptShare).ToString(CultureInfo.InvariantCulture)}.");
            var options = new PrmDatasetOptions
            {
                Problems = new ArithmeticProblemOptions { MinSteps = minSteps, MaxSteps = maxSteps, Digits = parse.GetValue(digits) },
                Count = parse.GetValue(count),
                CorruptShare = parse.GetValue(corruptShare),
                Seed = parse.GetValue(seed),
            };
            options.Problems.Validate();
            return Generate(options, parse.GetValue(output), stdout);
        });
        return cmd;
    }

    /// <summary>"3" → (3, 3); "2..4" → (2, 4).</summary>
    internal static (int Min, int Max) ParseSteps(string text)
    {
        var parts = text.Split("..");
        if (parts.Length is 1 or 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var min)
            && int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var max))
            return (min, max);
        throw new UserError($"--steps must be N or MIN..MAX (e.g. 2..4), not '{text}'.");
    }

    static int Generate(PrmDatasetOptions options, string? outPath, TextWriter stdout)
    {
        string path;
        RunFolder? run = null;
        if (outPath != null) path = Path.GetFullPath(outPath);
        else
        {
            run = RunFolder.Create("prm-data", null);
            path = run.File("data.jsonl");
        }
        var records = new List<PrmDataRecord>(options.Count);
        using (var progress = new ProgressBar("prm data", options.Count))
        {
            foreach (var r in PrmDataset.Generate(options))
            {
                records.Add(r);
                if (records.Count % 500 == 0) progress.Report(records.Count);
            }
            progress.Report(records.Count);
        }
        AtomicFile.Write(path, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
            foreach (var r in records) w.WriteLine(r.ToJsonLine());
        });

        var table = new TextTable("steps", "problems", "corrupted", "step labels +1", "step labels -1", "masked", "answer wrong");
        foreach (var g in records.GroupBy(r => r.Reference.Count(c => c == '\n') - 1).OrderBy(g => g.Key))
        {
            var labels = g.SelectMany(r => r.Check.StepLabels).ToArray();
            table.Add(g.Key, g.Count(), g.Count(r => r.Corrupted), labels.Count(l => l == 1), labels.Count(l => l == -1), labels.Count(l => l == 0), g.Count(r => !r.Check.IsCorrect));
        }
        var all = records.SelectMany(r => r.Check.StepLabels).ToArray();
        table.Add("all", records.Count, records.Count(r => r.Corrupted), all.Count(l => l == 1), all.Count(l => l == -1), all.Count(l => l == 0), records.Count(r => !r.Check.IsCorrect));
        var mistakes = new TextTable("mistake", "solutions", "right answer anyway");
        foreach (var g in records.Where(r => r.Corrupted).GroupBy(r => r.Mistake!.Value).OrderBy(g => g.Key))
            mistakes.Add(g.Key.ToString(), g.Count(), g.Count(r => r.Check.IsCorrect));

        stdout.WriteLine($"wrote {records.Count} problems to {path}");
        stdout.Write(table.ToText());
        stdout.WriteLine();
        stdout.Write(mistakes.ToText());
        if (run != null)
        {
            run.WriteConfig(new
            {
                verb = "prm data",
                steps = $"{options.Problems.MinSteps}..{options.Problems.MaxSteps}",
                digits = options.Problems.Digits,
                count = options.Count,
                corrupt_share = options.CorruptShare,
                seed = options.Seed,
            });
            run.WriteReport($"# prm data\n\n{records.Count} problems, seed {options.Seed}, file `data.jsonl`.\n\n{table.ToMarkdown()}\n{mistakes.ToMarkdown()}");
        }
        return 0;
    }

    static int AuditGsm8k(string path, TextWriter stdout)
    {
        var examples = Gsm8kLoader.Load(path);
        var a = Gsm8kLoader.Audit(examples);
        string Pct(int n, int of) => of == 0 ? "-" : (100.0 * n / of).ToString("F2", CultureInfo.InvariantCulture) + "%";
        var table = new TextTable("what", "count", "share");
        table.Add("solutions", a.Problems, "");
        table.Add("solutions with every note right", a.SolutionsAllNotesCorrect, Pct(a.SolutionsAllNotesCorrect, a.Problems));
        table.Add("final answer = last note's result", a.FinalAnswerEqualsLastNote, Pct(a.FinalAnswerEqualsLastNote, a.Problems));
        table.Add("steps (lines)", a.Steps, "");
        table.Add("steps with a note (labelled)", a.StepsWithNotes, Pct(a.StepsWithNotes, a.Steps));
        table.Add("notes", a.Notes, "");
        table.Add("notes arithmetically right", a.NotesCorrect, Pct(a.NotesCorrect, a.Notes));
        table.Add("notes the evaluator cannot read", a.NotesUnparsable, Pct(a.NotesUnparsable, a.Notes));
        table.Add("notes using only stated numbers", a.NotesGrounded, Pct(a.NotesGrounded, a.Notes));
        stdout.WriteLine($"{path}:");
        stdout.Write(table.ToText());
        var bad = examples.SelectMany(e => e.Steps.SelectMany(s => s.Notes.Where(n => !n.IsArithmeticCorrect).Select(n => (e.Line, n)))).Take(10).ToArray();
        foreach (var (line, n) in bad)
            stdout.WriteLine($"  line {line}: <<{n.Expression}={n.StatedResult}>> {n.Error ?? "does not hold"}");
        return 0;
    }

    static int CheckFile(string path, TextWriter stdout)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist.", path);
        var stats = new StepLabelStatistics();
        foreach (var (_, check, stored) in PrmDataset.CheckFile(path)) stats.Add(check, stored);
        if (stats.Solutions == 0) throw new InvalidDataException($"{path} holds no solutions.");

        string Pct(int n, int of) => of == 0 ? "-" : (100.0 * n / of).ToString("F1", CultureInfo.InvariantCulture) + "%";
        var steps = new TextTable("steps", "count", "share");
        foreach (var (v, n) in stats.Verdicts) steps.Add(v.ToString().ToLowerInvariant(), n, Pct(n, stats.Steps));
        foreach (var (l, n) in stats.Labels) steps.Add(l switch { 1 => "label +1", -1 => "label -1", _ => "label 0 (masked)" }, n, Pct(n, stats.Steps));
        var outcomes = new TextTable("solutions", "count", "share");
        foreach (var (o, n) in stats.Outcomes) outcomes.Add(o.ToString(), n, Pct(n, stats.Solutions));
        stdout.WriteLine($"{path}: {stats.Solutions} solutions, {stats.Steps} steps");
        stdout.Write(steps.ToText());
        stdout.WriteLine();
        stdout.Write(outcomes.ToText());
        if (stats.Reasons.Count > 0)
        {
            var reasons = new TextTable("reason", "steps");
            foreach (var (r, n) in stats.Reasons.OrderByDescending(x => x.Value).ThenBy(x => x.Key, StringComparer.Ordinal).Take(10)) reasons.Add(r, n);
            stdout.WriteLine();
            stdout.Write(reasons.ToText());
        }
        if (stats.LabelsCompared > 0)
            stdout.WriteLine($"\nstored step_labels: {stats.LabelsCompared - stats.LabelMismatches} of {stats.LabelsCompared} agree with the checker");
        return 0;
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Text;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi demo</c>: the main job on built-in data, one stage per capability, each at most about two
/// minutes on two cores. Writes <c>report.md</c> and every stage's files to one run folder.
/// </summary>
static class DemoCommand
{
    /// <summary>What a stage reports: a headline for the summary table and a Markdown section.</summary>
    internal sealed record StageResult(string Headline, string Markdown);

    /// <summary>A stage: a name and the work, given the run folder, the seed and stdout.</summary>
    internal sealed record Stage(string Name, Func<RunFolder, int, TextWriter, StageResult> Run);

    /// <summary>The stages in order; each issue adds one.</summary>
    internal static IReadOnlyList<Stage> Stages { get; } =
    [
        new("tokenizer", DemoStages.Tokenizer),
        new("lm", DemoStages.LanguageModel),
        new("lora", FinetuneCommands.DemoStage),
        new("clip", ClipVerbs.DemoStage),
        new("prm", (run, seed, stdout) =>
        {
            var (headline, markdown) = PrmCommands.DemoStage(run.File("prm"), stdout);
            return new StageResult(headline, markdown);
        }),
        new("w2s", W2sCommands.DemoStage),
    ];

    public static Command Create()
    {
        var outOpt = new Option<string?>("--out") { Description = "Run folder (default runs/demo-<timestamp>)." };
        var seedOpt = new Option<int>("--seed") { Description = "Seed for data, initialisation and sampling.", DefaultValueFactory = _ => 1 };
        var threadsOpt = new Option<int>("--threads")
        {
            Description = "CPU threads for torch. The demo's models are small, and one thread avoids threads waiting on each other (and on other jobs).",
            DefaultValueFactory = _ => 1,
        };
        var onlyOpt = new Option<string[]>("--only") { Description = "Run only these stages (names: " + string.Join(", ", Stages.Select(s => s.Name)) + ").", AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("demo", "Run every capability on built-in data and write a report (a few minutes on two cores).") { outOpt, seedOpt, threadsOpt, onlyOpt };
        cmd.SetAction(parse =>
        {
            var only = parse.GetValue(onlyOpt) ?? [];
            var unknown = only.Where(o => Stages.All(s => s.Name != o)).ToList();
            if (unknown.Count > 0) throw new UserError($"unknown demo stage '{unknown[0]}'; stages are {string.Join(", ", Stages.Select(s => s.Name))}.");
            var run = RunFolder.Create("demo", parse.GetValue(outOpt));
            var seed = parse.GetValue(seedOpt);
            if (parse.GetValue(threadsOpt) is var threads and > 0) Farabi.Training.TorchThreads.Set(threads);
            run.WriteConfig(new { verb = "demo", seed, stages = only.Length > 0 ? only : Stages.Select(s => s.Name).ToArray() });
            var stdout = parse.InvocationConfiguration.Output;
            var summary = new TextTable("stage", "result", "seconds");
            var report = new StringBuilder("# Farabi demo\n\n");
            foreach (var stage in Stages.Where(s => only.Length == 0 || only.Contains(s.Name)))
            {
                stdout.WriteLine($"== {stage.Name}");
                var clock = Stopwatch.StartNew();
                var result = stage.Run(run, seed, stdout);
                summary.Add(stage.Name, result.Headline, clock.Elapsed.TotalSeconds);
                report.Append($"## {stage.Name}\n\n{result.Markdown.TrimEnd()}\n\n");
                run.WriteReport(report + "## Summary\n\n" + summary.ToMarkdown());
            }
            stdout.WriteLine();
            stdout.Write(summary.ToText());
            stdout.WriteLine($"report: {run.File("report.md")}");
            return 0;
        });
        return cmd;
    }
}

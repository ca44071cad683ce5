using Farabi.Cli;
using Farabi.Research.ProcessSupervision;
using System.CommandLine;
using System.Text.Json.Nodes;
using Xunit;

namespace Farabi.Tests.ProcessSupervision;

public sealed class PrmDatasetTests
{
    [Fact]
    public void Corrupt_share_is_exact_and_labels_follow_the_checker()
    {
        var records = PrmDataset.Generate(new PrmDatasetOptions { Count = 200, CorruptShare = 0.3, Seed = 1 }).ToArray();
        Assert.Equal(60, records.Count(r => r.Corrupted));
        foreach (var r in records)
        {
            if (r.Corrupted)
            {
                Assert.Equal(r.MistakeStep, r.Check.FirstErrorStep);
                Assert.NotEqual(r.Reference, r.Solution);
            }
            else
            {
                Assert.Equal(SolutionOutcome.Correct, r.Check.Outcome);
                Assert.Equal(r.Reference, r.Solution);
            }
            var json = JsonNode.Parse(r.ToJsonLine())!;
            Assert.Equal(r.Solution, (string?)json["solution"]);
            Assert.Equal(r.Check.StepLabels, json["step_labels"]!.AsArray().Select(n => (int)n!));
        }
        Assert.DoesNotContain("\\u002B", records[0].ToJsonLine()); // '+' stays readable
    }

    [Fact]
    public void Same_seed_same_data_set()
    {
        var a = PrmDataset.Generate(new PrmDatasetOptions { Count = 30, Seed = 2 }).Select(r => r.ToJsonLine());
        var b = PrmDataset.Generate(new PrmDatasetOptions { Count = 30, Seed = 2 }).Select(r => r.ToJsonLine());
        Assert.Equal(a, b);
    }

    [Fact]
    public void Statistics_count_verdicts_labels_and_outcomes()
    {
        var stats = new StepLabelStatistics();
        var reference = new StepCheckReference([12, 7, 15], "69", new HashSet<Rational> { 84, 69 });
        stats.Add(StepChecker.Check(reference, "12*7=84\n84-15=69\nanswer: 69"), [1, 1, 1]);
        stats.Add(StepChecker.Check(reference, "12*7=85\n85-15=70\nanswer: 70"), [1, 1, 1]);
        stats.Add(StepChecker.Check(reference, "12*7"));
        Assert.Equal(3, stats.Solutions);
        Assert.Equal(7, stats.Steps);
        Assert.Equal(3, stats.Labels[1]);   // the clean solution
        Assert.Equal(2, stats.Labels[-1]);  // first errors of the other two
        Assert.Equal(2, stats.Labels[0]);   // masked after the slip
        Assert.Equal(1, stats.Outcomes[SolutionOutcome.Correct]);
        Assert.Equal(1, stats.Outcomes[SolutionOutcome.WrongAnswer]);
        Assert.Equal(1, stats.Outcomes[SolutionOutcome.NoAnswer]);
        Assert.Equal(1, stats.Reasons["wrong: n*n is n, not n"]);
        Assert.Equal((2, 1), (stats.LabelsCompared, stats.LabelMismatches));
    }
}

public sealed class PrmCommandsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-prm-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    static (int Code, string Out, string Err) Run(params string[] args) => Farabi.Tests.Cli.CliRun.Run(args);

    [Fact]
    public void Data_writes_jsonl_and_check_agrees_with_its_labels()
    {
        var path = Path.Combine(_dir, "data.jsonl");
        var (code, output, _) = Run("prm", "data", "--count", "40", "--steps", "2..3", "--digits", "1", "--corrupt-share", "0.25", "--seed", "3", "--out", path);
        Assert.Equal(0, code);
        Assert.Contains("wrote 40 problems", output);
        var lines = File.ReadAllLines(path);
        Assert.Equal(40, lines.Length);
        Assert.Equal(10, lines.Count(l => (bool)JsonNode.Parse(l)!["corrupted"]!));
        (code, output, _) = Run("prm", "data", "--check", path);
        Assert.Equal(0, code);
        Assert.Contains("40 of 40 agree with the checker", output);
        Assert.Matches(@"WrongAnswer\s+10\s", output);
    }

    [Fact]
    public void Check_reads_sampled_solutions_without_references()
    {
        var path = Path.Combine(_dir, "samples.jsonl");
        File.WriteAllLines(path,
        [
            """{"problem": "Ali has 12 boxes with 7 pens in each. He gives 15 pens away.", "answer": 69, "solution": "12*7=84\n84-15=69\nanswer: 69"}""",
            """{"problem": "Ali has 12 boxes with 7 pens in each. He gives 15 pens away.", "answer": "69", "solution": "12*7=84\n84-1"}""",
        ]);
        var (code, output, _) = Run("prm", "data", "--check", path);
        Assert.Equal(0, code);
        Assert.Contains("2 solutions, 5 steps", output);
        Assert.Contains("malformed: no '=' in the step", output);
    }

    [Theory]
    [InlineData("--steps", "4..2", "--steps must lie within")]
    [InlineData("--steps", "two", "--steps must be N or MIN..MAX")]
    [InlineData("--digits", "0", "--digits must be between 1 and 6")]
    [InlineData("--corrupt-share", "1.5", "--corrupt-share must be between 0 and 1")]
    [InlineData("--count", "0", "--count must be at least 1")]
    [InlineData("--check", "/nonexistent/x.jsonl", "does not exist")]
    public void Bad_input_is_one_line_and_exit_code_2(string flag, string value, string message)
    {
        var (code, _, err) = Run("prm", "data", flag, value, "--out", Path.Combine(_dir, "x.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_dir, "x.jsonl")));
    }

    [Fact]
    public void Malformed_check_file_names_the_line()
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(path, ["""{"problem": "p", "answer": "1", "solution": "answer: 1"}""", """{"problem": "p", "answer": "1"}"""]);
        var (code, _, err) = Run("prm", "data", "--check", path);
        Assert.Equal(2, code);
        Assert.Contains("bad.jsonl:2: field \"solution\" is missing", err);
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using Farabi.Cli;
using Farabi.Tests.Data;
using Farabi.Tests.Models;
using Xunit;

namespace Farabi.Tests.Training;

[Collection(nameof(GlobalTorchRng))]
public sealed class LmTrainCliTests
{
    static int Run(params string[] args)
    {
        var root = new RootCommand("test") { DataCommands.Create(), new Command("lm") { LmTrainCommands.CreateTrain(), LmTrainCommands.CreateEval() } };
        return CliApp.Run(root, args, TextWriter.Null, TextWriter.Null);
    }

    [Fact]
    public void Tokenize_train_resume_and_eval_end_to_end()
    {
        var dir = TinyModels.TempDir();
        var text = Path.Combine(dir, "text.txt");
        File.WriteAllText(text, TinyCorpus.Text(3000));
        var tokens = Path.Combine(dir, "text.bin");
        Assert.Equal(0, Run("data", "tokenize", "--input", text, "--out", tokens, "--mode", "char"));
        Assert.True(File.Exists(Path.Combine(dir, "text.val.bin")));

        var run = Path.Combine(dir, "run");
        string[] size = ["--layers", "1", "--heads", "2", "--embd", "16", "--context", "16", "--batch-size", "4", "--eval-iters", "1", "--threads", "1"];
        Assert.Equal(0, Run(["lm", "train", "--data", tokens, "--out", run, "--max-steps", "4", "--decay-steps", "6", "--eval-interval", "2", .. size]));
        foreach (var f in new[] { "config.json", "metrics.jsonl", "report.md", "summary.json", "checkpoints/latest/model.safetensors", "checkpoints/best/trainer_state.json" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!;
        Assert.Equal(4, summary["steps"]!.GetValue<int>());
        Assert.Contains("| final val loss |", File.ReadAllText(Path.Combine(run, "report.md")));
        Assert.Equal(3, File.ReadLines(Path.Combine(run, "metrics.jsonl")).Count(l => l.Contains("\"eval\""))); // steps 0, 2, 4

        var resumed = Path.Combine(dir, "resumed");
        Assert.Equal(0, Run(["lm", "train", "--data", tokens, "--resume", run, "--out", resumed, "--max-steps", "6", "--eval-interval", "2", .. size]));
        Assert.Equal(6, JsonNode.Parse(File.ReadAllText(Path.Combine(resumed, "summary.json")))!["steps"]!.GetValue<int>());
        // The resumed run keeps its saved options and lands where an uninterrupted 6-step run does.
        var straight = Path.Combine(dir, "straight");
        Assert.Equal(0, Run(["lm", "train", "--data", tokens, "--out", straight, "--max-steps", "6", "--decay-steps", "6", "--eval-interval", "2", .. size]));
        using (var a = Farabi.Models.CausalLanguageModel.Load(Path.Combine(straight, "checkpoints", "latest")))
        using (var b = Farabi.Models.CausalLanguageModel.Load(Path.Combine(resumed, "checkpoints", "latest")))
        {
            var (x, y) = (TrainingFixtures.Flatten(a), TrainingFixtures.Flatten(b));
            Assert.True(x.Zip(y, (p, q) => Math.Abs(p - q)).Max() <= 1e-6, "CLI resume differs from the uninterrupted run");
        }

        Assert.Equal(0, Run("lm", "eval", "--model", run, "--data", text, "--stride", "8"));

        // lm sample encodes a text prompt with the run's tokenizer and streams the continuation as text.
        var (code, output, _) = Farabi.Tests.Cli.CliRun.Run("lm", "sample", "--model", run, "--prompt", "The ", "--max-new-tokens", "12", "--temperature", "0", "--threads", "1");
        Assert.Equal(0, code);
        Assert.StartsWith("The ", output);
        Assert.True(output.TrimEnd('\n').Length >= "The ".Length + 1, $"no text was generated: '{output}'");
        var (_, ids, _) = Farabi.Tests.Cli.CliRun.Run("lm", "sample", "--model", run, "--prompt", "The ", "--max-new-tokens", "12", "--temperature", "0", "--threads", "1", "--print-ids");
        Assert.Equal(4 + 12, System.Text.Json.JsonSerializer.Deserialize<int[]>(ids)!.Length);
    }

    [Fact]
    public void Bad_input_is_exit_code_2()
    {
        var dir = TinyModels.TempDir();
        Assert.Equal(2, Run("lm", "train", "--data", Path.Combine(dir, "missing.bin"), "--out", Path.Combine(dir, "r")));
        Assert.Equal(2, Run("lm", "train", "--resume", Path.Combine(dir, "nothing"), "--out", Path.Combine(dir, "r2"), "--max-steps", "1"));
        Assert.Equal(2, Run("data", "tokenize", "--input", Path.Combine(dir, "missing.txt"), "--out", Path.Combine(dir, "x.bin")));
        Assert.Equal(2, Run("lm", "eval", "--model", dir, "--data", Path.Combine(dir, "missing.txt")));
    }
}

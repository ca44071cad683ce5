using System.CommandLine;
using System.Text.Json;
using Farabi.Cli;
using Xunit;

namespace Farabi.Tests.Cli;

public sealed class PrmPipelineVerbTests : IDisposable
{
    static PrmPipelineVerbTests() => Farabi.Native.GlibcxxCompat.EnsureLoadable();

    readonly string _dir = Directory.CreateTempSubdirectory("farabi-prm-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => Farabi.Tests.Cli.CliRun.Run(args);

    [Fact]
    public void The_verbs_chain_through_folders_into_results_json()
    {
        string D(string name) => Path.Combine(_dir, name);
        Assert.Equal(0, Run("prm", "train-generator", "--steps", "2", "--width", "16", "--heads", "2", "--batch-size", "2",
            "--problem-steps", "4", "--max-value", "50", "--out", D("gen")).Code);
        Assert.True(File.Exists(Path.Combine(D("gen"), "generator", "model.safetensors")));
        // --init goes on from a trained generator, keeping its size even when other sizes are asked for.
        var more = Run("prm", "train-generator", "--init", D("gen"), "--steps", "1", "--width", "32", "--batch-size", "2", "--out", D("gen2"));
        Assert.True(more.Code == 0, more.Err);
        Assert.Equal(File.ReadAllText(Path.Combine(D("gen"), "generator", "config.json")), File.ReadAllText(Path.Combine(D("gen2"), "generator", "config.json")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(D("gen"), "generator", "model.safetensors")), File.ReadAllBytes(Path.Combine(D("gen2"), "generator", "model.safetensors")));
        Assert.Equal(0, Run("prm", "sample", "--generator", D("gen"), "--train-problems", "2", "--train-samples", "2", "--test-problems", "2", "--n", "4", "--out", D("samples")).Code);
        var samples = Path.Combine(D("samples"), "samples.jsonl");
        Assert.Equal(4, File.ReadAllLines(samples).Length);
        // Sampling draws the problems the generator was trained on (its task.json): 4 steps, no value above 50.
        foreach (var line in File.ReadAllLines(samples))
        {
            using var p = JsonDocument.Parse(line);
            var reference = p.RootElement.GetProperty("reference").GetString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(5, reference.Length);
            Assert.All(reference.SkipLast(1), step => Assert.InRange(long.Parse(step.Split('=')[1]), 0, 50));
        }
        // The verifier finds the generator through the samples run's config.json.
        var prm = Run("prm", "train-verifier", "--kind", "prm", "--samples", samples, "--steps", "2", "--batch-size", "2", "--out", D("prm"));
        Assert.True(prm.Code == 0, prm.Err);
        Assert.Equal(0, Run("prm", "train-verifier", "--kind", "orm", "--samples", samples, "--steps", "2", "--batch-size", "2", "--out", D("orm")).Code);
        var (code, stdout, _) = Run("prm", "best-of-n", "--samples", samples, "--prm", D("prm"), "--orm", D("orm"), "--resamples", "5", "--out", D("bon"));
        Assert.Equal(0, code);
        Assert.Contains("best-of-4", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(D("bon"), "results.json")));
        Assert.Equal([1, 2, 4], doc.RootElement.GetProperty("n").EnumerateArray().Select(x => x.GetInt32()));
        foreach (var key in new[] { "prm_prod", "prm_min", "prm_last", "orm", "majority", "prm_weighted" })
            Assert.Equal(3, doc.RootElement.GetProperty(key).GetArrayLength());
        // The paper's ordering pair by pair, each with a bootstrap interval around its difference.
        var pair = doc.RootElement.GetProperty("paired_differences").GetProperty("prm_prod-orm");
        Assert.Equal(3, pair.GetProperty("difference").GetArrayLength());
        Assert.All(pair.GetProperty("lower").EnumerateArray().Zip(pair.GetProperty("upper").EnumerateArray()), x => Assert.True(x.First.GetDouble() <= x.Second.GetDouble()));
        // Every verifier's per-sample scores, one problem a line.
        Assert.Equal(2, File.ReadAllLines(Path.Combine(D("bon"), "scores.jsonl")).Length);
        // Verifiers read surprisal and keep the language-model loss by default.
        Assert.Contains("\"surprisal\": true", File.ReadAllText(Path.Combine(D("prm"), "verifier", "verifier.json")));
        Assert.True(new FileInfo(Path.Combine(D("bon"), "best_of_n.png")).Length > 1000);
        Assert.Contains("| prm_prod |", File.ReadAllText(Path.Combine(D("bon"), "report.md")));
    }

    [Fact]
    public void Prm800k_writes_roc_auc_and_baselines_for_tiny_rating_files()
    {
        static string Line(string problem, string[] prior, string step, int? rating) => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["instruction"] = problem, ["responses"] = prior, ["next_response"] = step, ["rating"] = rating, ["is_solution"] = false, ["answer"] = null,
        });
        var lines = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            lines.Add(Line($"What is {i} + {i}?", [], $"{i} + {i} = {2 * i}, which is right.", 1));
            lines.Add(Line($"What is {i} + {i}?", [], $"{i} + {i} = {2 * i + 1}, oops.", -1));
        }
        lines.Add(Line("What is 1 + 1?", [], "A human wrote this.", null));
        lines.Add(Line("What is 1 + 1?", ["1 + 1 = 2"], "Let me double-check.", 0));
        File.WriteAllLines(Path.Combine(_dir, "train.jsonl"), lines);
        File.WriteAllLines(Path.Combine(_dir, "test.jsonl"), lines.Take(8));
        var (code, stdout, err) = Run("prm", "prm800k", "--train", Path.Combine(_dir, "train.jsonl"), "--test", Path.Combine(_dir, "test.jsonl"),
            "--encoder", "byte-lm", "--steps", "3", "--batch-size", "4", "--layers", "1", "--width", "16", "--neutral", "drop", "--out", Path.Combine(_dir, "p8k"));
        Assert.True(code == 0, err);
        Assert.Contains("step ROC-AUC", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "p8k", "results.json")));
        var r = doc.RootElement;
        Assert.InRange(r.GetProperty("roc_auc").GetDouble(), 0, 1);
        Assert.Equal(24, r.GetProperty("train_steps_rated").GetInt32()); // the unrated and the neutral step are left out
        Assert.Equal(8, r.GetProperty("test_steps_rated").GetInt32());
        Assert.Equal(0.5, r.GetProperty("test_positive_share").GetDouble());
        // The n-gram baseline sees "right" vs "oops" in training, so it separates the test steps perfectly.
        Assert.Equal(1.0, r.GetProperty("baselines").GetProperty("word_ngram_logistic_roc_auc").GetDouble());
        // The frozen MiniLM probe: "right" and "oops" steps embed apart, so the probe separates them too.
        (code, _, err) = Run("prm", "prm800k", "--train", Path.Combine(_dir, "train.jsonl"), "--test", Path.Combine(_dir, "test.jsonl"),
            "--neutral", "drop", "--cache", Path.Combine(_dir, "cache"), "--out", Path.Combine(_dir, "p8k-minilm"));
        Assert.True(code == 0, err);
        using var minilm = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "p8k-minilm", "results.json")));
        Assert.Contains("MiniLM", minilm.RootElement.GetProperty("encoder").GetString());
        Assert.True(minilm.RootElement.GetProperty("roc_auc").GetDouble() > 0.9);
        (code, _, err) = Run("prm", "prm800k", "--train", Path.Combine(_dir, "nope.jsonl"), "--test", Path.Combine(_dir, "test.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains("nope.jsonl", err);
    }

    [Fact]
    public void Wrong_inputs_exit_with_code_2_and_one_sentence()
    {
        var (code, _, err) = Run("prm", "train-verifier", "--kind", "prm", "--samples", Path.Combine(_dir, "missing.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains("missing.jsonl", err);
        File.WriteAllText(Path.Combine(_dir, "s.jsonl"), "{\"id\":\"a\"}\n");
        (code, _, err) = Run("prm", "best-of-n", "--samples", Path.Combine(_dir, "s.jsonl"), "--prm", _dir, "--orm", _dir);
        Assert.Equal(2, code);
        Assert.Contains("--prm", err);
        Assert.DoesNotContain("   at ", err);
        (code, _, err) = Run("prm", "train-verifier", "--kind", "prm", "--samples", Path.Combine(_dir, "s.jsonl"), "--lm-loss", "-1");
        Assert.Equal(2, code);
        Assert.Contains("--lm-loss must be 0 or more, not -1", err);
        (code, _, err) = Run("prm", "train-generator", "--drill-share", "1.5", "--out", Path.Combine(_dir, "g"));
        Assert.Equal(2, code);
        Assert.Contains("--drill-share must be between 0 and 1, not 1.5", err);
    }
}

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
        Assert.Equal(0, Run("prm", "train-generator", "--steps", "2", "--width", "16", "--heads", "2", "--batch-size", "2", "--out", D("gen")).Code);
        Assert.True(File.Exists(Path.Combine(D("gen"), "generator", "model.safetensors")));
        Assert.Equal(0, Run("prm", "sample", "--generator", D("gen"), "--train-problems", "2", "--train-samples", "2", "--test-problems", "2", "--n", "4", "--out", D("samples")).Code);
        var samples = Path.Combine(D("samples"), "samples.jsonl");
        Assert.Equal(4, File.ReadAllLines(samples).Length);
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
        Assert.True(new FileInfo(Path.Combine(D("bon"), "best_of_n.png")).Length > 1000);
        Assert.Contains("| prm_prod |", File.ReadAllText(Path.Combine(D("bon"), "report.md")));
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
    }
}

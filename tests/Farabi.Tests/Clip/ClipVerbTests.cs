using System.CommandLine;
using System.Text.Json;
using Farabi.Cli;
using Farabi.Models.Clip;
using Xunit;

namespace Farabi.Tests.Clip;

public sealed class ClipVerbTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-clip-verbs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => Farabi.Tests.Cli.CliRun.Run(args);

    [Fact]
    public void Train_then_zeroshot_probe_and_import_write_results_with_the_names_scripts_read()
    {
        var train = Path.Combine(_dir, "train");
        var (code, _, err) = Run("clip", "train", "--steps", "3", "--train-scenes", "40", "--test-scenes", "36", "--width", "32", "--layers", "1", "--out", train);
        Assert.True(code == 0, err);
        foreach (var f in new[] { "config.json", "metrics.jsonl", "report.md", "loss.png", "confusion-held-out.png", "similarity.png", "model/config.json", "model/model.safetensors" })
            Assert.True(File.Exists(Path.Combine(train, f)), $"missing {f}");
        using (var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(train, "results.json"))))
        {
            Assert.Equal(1.0 / 36, results.RootElement.GetProperty("chance").GetDouble(), 9);
            Assert.InRange(results.RootElement.GetProperty("zero_shot_top1").GetDouble(), 0, 1);
            Assert.InRange(results.RootElement.GetProperty("probe_top1").GetDouble(), 0, 1);
        }
        var model = Path.Combine(train, "model");
        var zs = Path.Combine(_dir, "zs");
        (code, _, err) = Run("clip", "zeroshot", "--model", model, "--limit", "20", "--out", zs);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(zs, "results.json")));
        var probe = Path.Combine(_dir, "probe");
        (code, _, err) = Run("clip", "probe", "--model", model, "--limit", "20", "--steps", "20", "--out", probe);
        Assert.True(code == 0, err);
        Assert.Contains("probe_top1", File.ReadAllText(Path.Combine(probe, "results.json")));
        var imported = Path.Combine(_dir, "imported");
        (code, _, err) = Run("clip", "import-hf", "--input", model, "--out", imported);
        Assert.True(code == 0, err);
        Assert.Equal(ClipModel.LoadConfig(model), ClipModel.LoadConfig(imported));
    }

    [Fact]
    public void A_missing_model_folder_is_one_clear_error()
    {
        var (code, _, err) = Run("clip", "zeroshot", "--model", Path.Combine(_dir, "nope"));
        Assert.Equal(2, code);
        Assert.Contains("config.json", err);
        Assert.DoesNotContain("   at ", err);
    }
}

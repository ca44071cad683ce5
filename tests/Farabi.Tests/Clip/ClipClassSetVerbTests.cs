using System.Text.Json;
using Farabi.Testing;
using Xunit;

namespace Farabi.Tests.Clip;

public sealed class ClipClassSetVerbTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-clip-classset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => Farabi.Tests.Cli.CliRun.Run(args);

    static void AssertResults(string folder, double chance)
    {
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json")));
        Assert.Equal(chance, results.RootElement.GetProperty("chance").GetDouble(), 9);
        Assert.InRange(results.RootElement.GetProperty("zero_shot_top1").GetDouble(), 0, 1);
        Assert.InRange(results.RootElement.GetProperty("probe_top1").GetDouble(), 0, 1);
        foreach (var f in new[] { "report.md", "loss.png", "confusion-held-out.png", "similarity.png" })
            Assert.True(File.Exists(Path.Combine(folder, f)), $"missing {f}");
    }

    [Fact]
    public void Train_on_mnist_with_held_out_digits_writes_results_and_plots()
    {
        var images = SharedData.Require("images/mnist/t10k-images-idx3-ubyte.gz");
        var outDir = Path.Combine(_dir, "mnist");
        var (code, stdout, err) = Run("clip", "train", "--dataset", "mnist", "--data", images, "--hold-out", "3", "--hold-out", "7",
            "--steps", "3", "--train-scenes", "60", "--test-scenes", "40", "--width", "32", "--layers", "1", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Contains("held-out classes (3, 7)", stdout);
        AssertResults(outDir, 0.1);
        Assert.True(File.Exists(Path.Combine(outDir, "model", "model.safetensors")));
    }

    [Fact]
    public void Lit_trains_projections_on_frozen_towers_and_caches_their_features()
    {
        var train = SharedData.Require("images/cifar10/train-10k.bin.gz");
        var test = SharedData.Require("images/cifar10/test-2k.bin.gz");
        var cache = Path.Combine(_dir, "cache");
        var outDir = Path.Combine(_dir, "lit");
        string[] args = ["clip", "lit", "--data", train, "--test-data", test, "--train-images", "16", "--test-images", "40", "--steps", "5",
            "--batch-size", "8", "--cache", cache];
        var (code, _, err) = Run([.. args, "--out", outDir]);
        Assert.True(code == 0, err);
        AssertResults(outDir, 0.1);
        Assert.True(File.Exists(Path.Combine(outDir, "model", "lit_config.json")));
        var cached = Directory.GetFiles(cache, "*", SearchOption.AllDirectories);
        Assert.Contains(cached, f => f.Contains("resnet18"));
        Assert.Contains(cached, f => f.Contains("MiniLM"));
        // A rerun reads the features back: same files, same results.
        var again = Path.Combine(_dir, "lit2");
        (code, _, err) = Run([.. args, "--out", again]);
        Assert.True(code == 0, err);
        Assert.Equal(cached.Order(), Directory.GetFiles(cache, "*", SearchOption.AllDirectories).Order());
        Assert.Equal(File.ReadAllText(Path.Combine(outDir, "results.json")).Split("train_seconds")[0],
                     File.ReadAllText(Path.Combine(again, "results.json")).Split("train_seconds")[0]);
    }

    [Fact]
    public void Unknown_class_names_and_missing_files_are_one_clear_error()
    {
        var train = SharedData.Require("images/cifar10/train-10k.bin.gz");
        var (code, _, err) = Run("clip", "lit", "--data", train, "--test-data", train, "--hold-out", "zebra", "--train-images", "20", "--test-images", "10");
        Assert.Equal(2, code);
        Assert.Contains("\"zebra\" is not a class", err);
        Assert.DoesNotContain("   at ", err);
        (code, _, err) = Run("clip", "train", "--dataset", "mnist", "--data", Path.Combine(_dir, "nope-images-idx3-ubyte.gz"));
        Assert.Equal(2, code);
        Assert.Contains("nope-images-idx3-ubyte.gz", err);
        Assert.DoesNotContain("   at ", err);
    }
}

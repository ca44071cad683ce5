using System.Text.Json.Nodes;
using Farabi.IO;
using Xunit;

namespace Farabi.Tests.Cli;

public sealed class TowersVerbTests
{
    [Fact]
    public void Embed_writes_unit_vectors_for_each_nonempty_line_and_reuses_the_cache()
    {
        var dir = Directory.CreateTempSubdirectory("farabi-towers-").FullName;
        var input = Path.Combine(dir, "texts.txt");
        File.WriteAllText(input, "a good film\n\nthe worst plot ever\n");
        var output = Path.Combine(dir, "vectors.safetensors");
        var cache = Path.Combine(dir, "cache");
        var (code, stdout, stderr) = CliRun.Run("towers", "embed", "--texts", input, "--out", output, "--cache", cache);
        Assert.True(code == 0, stderr);
        var summary = JsonNode.Parse(stdout)!;
        Assert.Equal(2, summary["items"]!.GetValue<int>());
        Assert.Equal(384, summary["dim"]!.GetValue<int>());
        using var file = SafetensorsFile.Open(output);
        Assert.Equal(new long[] { 2, 384 }, file.Entries["embeddings"].Shape);
        var v = file.Read("embeddings").data<float>().ToArray();
        Assert.Equal(1.0, Math.Sqrt(v.Take(384).Sum(x => (double)x * x)), 4);
        // A second run finds both texts in the cache and adds no shard.
        Assert.Equal(0, CliRun.Run("towers", "embed", "--texts", input, "--cache", cache).Code);
        Assert.Single(Directory.GetFiles(summary["cache"]!.GetValue<string>(), "*.safetensors"));
    }

    [Fact]
    public void Embed_needs_exactly_one_source()
    {
        var (code, _, stderr) = CliRun.Run("towers", "embed");
        Assert.Equal(2, code);
        Assert.Contains("exactly one of --texts, --cifar10 or --images", stderr);
        (code, _, stderr) = CliRun.Run("towers", "embed", "--cifar10", "/nonexistent/cifar.bin");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/cifar.bin", stderr);
    }
}

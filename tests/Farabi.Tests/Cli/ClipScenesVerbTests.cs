using System.CommandLine;
using System.Text.Json;
using Farabi.Cli;
using Farabi.Vision;
using Xunit;

namespace Farabi.Tests.Cli;

public sealed class ClipScenesVerbTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-clip-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => Farabi.Tests.Cli.CliRun.Run(args);

    [Fact]
    public void Scenes_writes_pngs_captions_and_a_contact_sheet_without_held_out_objects()
    {
        var outDir = Path.Combine(_dir, "scenes");
        var (code, stdout, _) = Run("clip", "scenes", "--count", "40", "--out", outDir, "--size", "32", "--seed", "3", "--hold-out", "purple triangle", "--hold-out", "large star");
        Assert.Equal(0, code);
        Assert.Contains("train", stdout);
        var lines = File.ReadAllLines(Path.Combine(outDir, "captions.jsonl"));
        Assert.Equal(40, lines.Length);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var file = doc.RootElement.GetProperty("file").GetString()!;
            var img = ImageFile.Load(Path.Combine(outDir, file));
            Assert.Equal((32, 32), (img.Width, img.Height));
            Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("caption").GetString()));
            foreach (var o in doc.RootElement.GetProperty("objects").EnumerateArray())
            {
                Assert.False(o.GetProperty("held_out").GetBoolean());
                Assert.False(o.GetProperty("colour").GetString() == "purple" && o.GetProperty("shape").GetString() == "triangle");
                Assert.False(o.GetProperty("size").GetString() == "large" && o.GetProperty("shape").GetString() == "star");
            }
        }
        var sheet = ImageFile.Load(Path.Combine(outDir, "contact-sheet.png"));
        Assert.Equal(2 + 8 * 34, sheet.Width);
        Assert.Equal(2 + 5 * 34, sheet.Height);
        Assert.True(File.Exists(Path.Combine(outDir, "config.json")));
        Assert.Contains("| train |", File.ReadAllText(Path.Combine(outDir, "report.md")));
    }

    [Fact]
    public void Held_out_split_puts_a_held_out_object_in_every_scene()
    {
        var outDir = Path.Combine(_dir, "test");
        Assert.Equal(0, Run("clip", "scenes", "--count", "20", "--out", outDir, "--size", "32", "--split", "held-out", "--hold-out", "purple triangle").Code);
        Assert.All(File.ReadAllLines(Path.Combine(outDir, "captions.jsonl")), line =>
            Assert.Contains(JsonDocument.Parse(line).RootElement.GetProperty("objects").EnumerateArray(), o => o.GetProperty("held_out").GetBoolean()));
    }

    [Fact]
    public void Bad_requests_are_one_line_errors_with_exit_code_2()
    {
        var (code, _, err) = Run("clip", "scenes", "--count", "5", "--out", Path.Combine(_dir, "x"), "--hold-out", "red hexagon");
        Assert.Equal(2, code);
        Assert.Contains("hexagon", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Equal(2, Run("clip", "scenes", "--split", "held-out", "--out", Path.Combine(_dir, "y")).Code);
        Assert.Equal(2, Run("clip", "scenes", "--count", "0").Code);
    }
}

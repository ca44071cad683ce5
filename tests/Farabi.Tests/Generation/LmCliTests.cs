using System.CommandLine;
using System.Text.Json;
using Farabi.Cli;
using Farabi.Generation;
using Farabi.Models;
using Farabi.Testing;
using Farabi.Tests.Models;
using Xunit;

namespace Farabi.Tests.Generation;

/// <summary>The scripted contract of <c>farabi lm sample</c> and <c>lm import-llama2c</c>.</summary>
public class LmCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => Farabi.Tests.Cli.CliRun.Run(args);

    static string SavedTinyModel()
    {
        var dir = TinyModels.TempDir();
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 8);
        model.SaveHf(dir);
        return dir;
    }

    [Fact]
    public void PrintIdsPrintsPromptPlusGreedyIdsAsOneJsonArray()
    {
        var dir = SavedTinyModel();
        var (code, stdout, _) = Run("lm", "sample", "--model", dir, "--prompt-ids", "[1, 2]", "--temperature", "0", "--max-new-tokens", "6", "--print-ids");
        Assert.Equal(0, code);
        var ids = JsonSerializer.Deserialize<int[]>(stdout.Trim())!;
        using var model = CausalLanguageModel.Load(dir);
        var expected = TokenGenerator.Generate(model, [1, 2], new GenerationOptions { MaxNewTokens = 6, Sampling = new() { Temperature = 0 } });
        Assert.Equal(expected.Tokens, ids);
    }

    [Fact]
    public void BadInputIsOneLineAndExitCodeTwo()
    {
        var dir = SavedTinyModel();
        var missing = Run("lm", "sample", "--model", Path.Combine(dir, "nope"), "--print-ids");
        Assert.Equal(2, missing.Code);
        Assert.Contains("does not exist", missing.Err);
        var badIds = Run("lm", "sample", "--model", dir, "--prompt-ids", "[1,", "--print-ids");
        Assert.Equal(2, badIds.Code);
        Assert.Contains("--prompt-ids", badIds.Err);
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), File.ReadAllBytes(Path.Combine(dir, "model.safetensors"))[..100]);
        var corrupt = Run("lm", "sample", "--model", dir, "--print-ids");
        Assert.Equal(2, corrupt.Code);
        Assert.Contains("model.safetensors", corrupt.Err);
        foreach (var r in new[] { missing, badIds, corrupt })
        {
            Assert.Equal("", r.Out);
            Assert.Single(r.Err.Trim().Split('\n'));
        }
    }

    [Fact]
    public void ImportedStories260KSamplesLlama2csGreedyIds()
    {
        var bin = SharedData.Require("weights/llama2c-stories260K/stories260K.bin");
        var reference = JsonDocument.Parse(File.ReadAllText(SharedData.Require("weights/llama2c-stories260K/reference.json"))).RootElement;
        var expected = reference.GetProperty("greedy_from_bos").GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()).Take(40);
        var dir = TinyModels.TempDir();
        Assert.Equal(0, Run("lm", "import-llama2c", "--input", bin, "--out", dir).Code);
        var (code, stdout, _) = Run("lm", "sample", "--model", dir, "--prompt-ids", "[1]", "--temperature", "0", "--max-new-tokens", "40", "--print-ids");
        Assert.Equal(0, code);
        Assert.Equal([1, .. expected], JsonSerializer.Deserialize<int[]>(stdout.Trim())!);
    }
}

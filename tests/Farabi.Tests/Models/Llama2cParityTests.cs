using System.Text.Json;
using Farabi.IO;
using Farabi.Models;
using Farabi.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Models;

/// <summary>
/// The imported stories260K checkpoint against llama2.c's own run.c output (reference.json, produced by
/// run.c's forward() in float32): logits to 1e-4 and the 200-step greedy continuation exactly.
/// </summary>
public class Llama2cParityTests
{
    const string Folder = "weights/llama2c-stories260K";

    static (LlamaForCausalLM Model, JsonElement Reference) Load()
    {
        var bin = SharedData.Require($"{Folder}/stories260K.bin");
        var reference = JsonDocument.Parse(File.ReadAllText(SharedData.Require($"{Folder}/reference.json"))).RootElement;
        return (Llama2cImporter.Import(bin), reference);
    }

    static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public void HeaderMatchesTheReferenceConfig()
    {
        var (model, reference) = Load();
        using var _ = model;
        var c = reference.GetProperty("config");
        var header = Llama2cImporter.ReadHeader(SharedData.Require($"{Folder}/stories260K.bin"));
        Assert.Equal(c.GetProperty("dim").GetInt32(), header.Dim);
        Assert.Equal(c.GetProperty("hidden_dim").GetInt32(), header.HiddenDim);
        Assert.Equal(c.GetProperty("n_kv_heads").GetInt32(), header.KvHeads);
        Assert.Equal(c.GetProperty("shared_classifier").GetBoolean(), header.SharedClassifier);
        Assert.Null(model.lm_head);
    }

    [Fact]
    public void TeacherForcedLogitsMatchLlama2c()
    {
        var (model, reference) = Load();
        using var _ = model;
        var fixedInput = reference.GetProperty("fixed_input");
        var ids = fixedInput.GetProperty("ids").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        using var logits = model.Forward(tensor(ids).view(1, -1));
        var worst = 0.0;
        var p = 0;
        foreach (var row in fixedInput.GetProperty("logits").EnumerateArray())
        {
            using var expected = tensor(Floats(row));
            worst = Math.Max(worst, (logits[0, p++] - expected).abs().max().item<float>());
        }
        Assert.Equal(ids.Length, p);
        TestContext.Current.TestOutputHelper?.WriteLine($"teacher-forced max |logit difference| vs llama2.c: {worst:E2}");
        Assert.True(worst < 1e-4, $"max |logit difference| {worst}");
    }

    [Fact]
    public void GreedyContinuationAndItsLogitsMatchLlama2c()
    {
        var (model, reference) = Load();
        using var _ = model;
        var greedy = reference.GetProperty("greedy_from_bos");
        var expectedIds = greedy.GetProperty("ids").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        // Full forward over the growing sequence (the KV-cache path is checked in the generation tests).
        var sequence = new List<long> { greedy.GetProperty("start_token").GetInt64() };
        Tensor? lastLogits = null;
        for (var step = 0; step < expectedIds.Length; step++)
        {
            using var scope = NewDisposeScope();
            using var logits = model.Forward(tensor(sequence.ToArray()).view(1, -1));
            sequence.Add(logits[0, -1].argmax().item<long>());
            if (step == expectedIds.Length - 1) lastLogits = logits[0].clone().MoveToOuterDisposeScope();
        }
        Assert.Equal(expectedIds, sequence.Skip(1).ToArray());
        // The logits along the greedy path at the dumped positions.
        var worst = 0.0;
        foreach (var position in reference.GetProperty("logits_at_greedy_positions").EnumerateObject())
        {
            using var expected = tensor(Floats(position.Value));
            worst = Math.Max(worst, (lastLogits![int.Parse(position.Name)] - expected).abs().max().item<float>());
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"greedy-path max |logit difference| vs llama2.c: {worst:E2}");
        Assert.True(worst < 1e-4, $"max |logit difference| {worst}");
    }

    [Fact]
    public void CachedGreedyGenerationMatchesLlama2c()
    {
        var (model, reference) = Load();
        using var _ = model;
        var greedy = reference.GetProperty("greedy_from_bos");
        var expected = greedy.GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var result = Farabi.Generation.TokenGenerator.Generate(model, [greedy.GetProperty("start_token").GetInt32()],
            new Farabi.Generation.GenerationOptions { MaxNewTokens = expected.Length, Sampling = new() { Temperature = 0 } });
        Assert.Equal(expected, result.NewTokens.ToArray());
    }

    [Fact]
    public void TruncatedCheckpointIsAClearError()
    {
        var bin = SharedData.Require($"{Folder}/stories260K.bin");
        var path = Path.Combine(TinyModels.TempDir(), "cut.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(bin)[..5000]);
        var e = Assert.Throws<InvalidDataException>(() => Llama2cImporter.Import(path));
        Assert.Contains("truncated", e.Message);
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using Farabi.Cli;
using Farabi.Lora;
using Farabi.Models;
using Farabi.Tests.Models;
using Xunit;
using static Farabi.Tests.Lora.LoraTestKit;
using static TorchSharp.torch;

namespace Farabi.Tests.Lora;

public class LoraCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => Farabi.Tests.Cli.CliRun.Run(args);

    /// <summary>A tiny GPT-2 folder and a trained-looking adapter for it.</summary>
    static (string Model, string Adapter, Tensor Adapted, Tensor Ids) Fixture()
    {
        var modelDir = TinyModels.TempDir();
        using var model = Gpt2();
        model.SaveHf(modelDir);
        File.WriteAllText(Path.Combine(modelDir, "vocab.json"), "{}");
        var lora = LoraModel.Inject(model, new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = ["c_attn", "c_fc"], UseDora = true });
        Perturb(lora);
        var ids = TinyModels.Ids(model.VocabSize, 2, 7);
        var adapted = Logits(model, ids);
        var adapterDir = TinyModels.TempDir();
        lora.SaveAdapter(adapterDir, baseModelNameOrPath: modelDir);
        return (modelDir, adapterDir, adapted, ids);
    }

    [Fact]
    public void InspectPrintsConfigAndPerModuleShapes()
    {
        var (_, adapter, _, _) = Fixture();
        var (code, output, _) = Run("lora", "inspect", adapter);
        Assert.Equal(0, code);
        Assert.Contains("transformer.h.1.mlp.c_fc", output);
        Assert.Contains("[4, 24]", output);
        Assert.Contains("[96, 4]", output);
        Assert.Contains("(DoRA)", output);
        var expected = 2 * (4 * 24 + 72 * 4 + 72) + 2 * (4 * 24 + 96 * 4 + 96);
        Assert.Contains($"{expected:N0}", output);

        var (jsonCode, json, _) = Run("lora", "inspect", adapter, "--json");
        Assert.Equal(0, jsonCode);
        var obj = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(expected, obj["trainable_params"]!.GetValue<long>());
        Assert.Equal(4, obj["modules"]!.AsArray().Count);
    }

    [Fact]
    public void MergeWritesAPlainHfModelWithTheAdaptedOutputs()
    {
        var (model, adapter, adapted, ids) = Fixture();
        var outDir = Path.Combine(TinyModels.TempDir(), "merged");
        var (code, output, err) = Run("lora", "merge", "--model", model, "--adapter", adapter, "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Equal(4, JsonNode.Parse(output)!["adapted_modules"]!.GetValue<int>());
        Assert.True(File.Exists(Path.Combine(outDir, "vocab.json")));
        using var merged = CausalLanguageModel.Load(outDir);
        Assert.True(MaxDiff(adapted, Logits(merged, ids)) < 1e-5);
    }

    [Fact]
    public void BadAdapterGivesOneLineAndExitCode2()
    {
        var (model, adapter, _, _) = Fixture();
        File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), "{ \"peft_type\": \"LORA\", \"r\": -3 ");
        var (code, _, err) = Run("lora", "merge", "--model", model, "--adapter", adapter, "--out", TinyModels.TempDir());
        Assert.Equal(2, code);
        Assert.StartsWith("farabi: ", err);
        Assert.Contains("adapter_config.json", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void TrainOnATsvSavesAnAdapterThatInspectReads()
    {
        var dir = TinyModels.TempDir();
        var tsv = Path.Combine(dir, "data.tsv");
        File.WriteAllLines(tsv, Enumerable.Range(0, 12).Select(i => (i % 2 == 0 ? "good fine film" : "bad dull film") + $"\t{(i % 2 == 0 ? "pos" : "neg")}"));
        var run = Path.Combine(dir, "run");
        var (code, output, err) = Run("lora", "train", "--tsv", tsv, "--steps", "2", "--batch", "4", "--seq", "16", "--r", "2", "--out", run);
        Assert.True(code == 0, err);
        var result = JsonNode.Parse(output)!.AsObject();
        foreach (var key in new[] { "method", "trainable_params", "total_params", "accuracy", "step_ms", "peak_mb" }) Assert.True(result.ContainsKey(key), key);
        Assert.Equal("lora_r2", result["method"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(run, "adapter", "adapter_model.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "results.json")));
        var (inspectCode, inspect, _) = Run("lora", "inspect", Path.Combine(run, "adapter"));
        Assert.Equal(0, inspectCode);
        Assert.Contains("score.weight", inspect);
        // The SEQ_CLS adapter merges onto the saved base LM, which becomes a classifier.
        var merged = Path.Combine(dir, "merged");
        var (mergeCode, _, mergeErr) = Run("lora", "merge", "--model", Path.Combine(run, "base"), "--adapter", Path.Combine(run, "adapter"), "--out", merged);
        Assert.True(mergeCode == 0, mergeErr);
        using var classifier = SequenceClassificationModel.Load(merged);
        Assert.Equal(2, classifier.NumLabels);
    }
}

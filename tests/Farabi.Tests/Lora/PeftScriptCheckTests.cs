using System.Diagnostics;
using System.Text.Json.Nodes;
using Farabi.Lora;
using Farabi.Models;
using Farabi.Tests.Models;
using Xunit;
using static Farabi.Tests.Lora.LoraTestKit;

namespace Farabi.Tests.Lora;

/// <summary>
/// Our adapters read by an independent reader: bench/peft_check.py (Python standard library only) parses the
/// safetensors header and checks PEFT's key names and shapes against the HF config of the base. Skipped where
/// python3 is absent. (Loading in Python PEFT itself is not verified here: torch and peft are not installed.)
/// </summary>
public class PeftScriptCheckTests
{
    static string? Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Farabi.slnx")))
                return Path.Combine(dir.FullName, "bench", "peft_check.py");
        return null;
    }

    static (int Code, string Output) Check(string adapterDir, CausalLanguageModel model)
    {
        var script = Script();
        Assert.SkipWhen(script == null || !File.Exists(script), "bench/peft_check.py is not beside the test binaries' project");
        var config = Path.Combine(adapterDir, "base_config.json");
        File.WriteAllText(config, model.Config.ToJson().ToJsonString());
        ProcessStartInfo start = new("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script!, adapterDir, config }) start.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception) { Assert.Skip("python3 is not installed"); throw; }
        using (process)
        {
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
    }

    static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, LoraConfig.FileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gpt2AdapterOnEveryLinearLayerAndTheEmbeddingPassesAndABrokenConfigFails(bool dora)
    {
        using var model = Gpt2();
        // DoRA is for linear layers only, so its adapter leaves the embedding out.
        string[] targets = dora ? ["c_attn", "c_proj", "c_fc"] : ["c_attn", "c_proj", "c_fc", "wte"];
        var lora = LoraModel.Inject(model, new LoraConfig { R = 3, LoraAlpha = 8, TargetModules = targets, UseDora = dora, RankPattern = new Dictionary<string, int> { ["c_fc"] = 5 } });
        var dir = TinyModels.TempDir();
        lora.SaveAdapter(dir);
        var (code, output) = Check(dir, model);
        Assert.True(code == 0, output);
        Assert.Contains($"ok: {4 * model.Gpt2Config.NLayer + (dora ? 0 : 1)} adapted modules", output); // c_attn, c_proj (attn and mlp), c_fc per block

        // The checker is not a rubber stamp: GPT-2's Conv1D needs fan_in_fan_out, and every module must be targeted.
        EditConfig(dir, j => j["fan_in_fan_out"] = false);
        (code, output) = Check(dir, model);
        Assert.Equal(1, code);
        Assert.Contains("fan_in_fan_out", output);
        EditConfig(dir, j => { j["fan_in_fan_out"] = true; j["target_modules"] = new JsonArray("c_attn", "c_proj"); });
        (code, output) = Check(dir, model);
        Assert.Equal(1, code);
        Assert.Contains("mlp.c_fc", output);
        // A rank the file does not have is caught on every factor.
        EditConfig(dir, j => { j["target_modules"] = new JsonArray([.. targets.Select(t => (JsonNode)t)]); j["rank_pattern"] = new JsonObject(); });
        (code, output) = Check(dir, model);
        Assert.Equal(1, code);
        Assert.Contains("mlp.c_fc.lora_A.weight: shape [5, ", output);
    }

    [Fact]
    public void LlamaAdapterWithAClassificationHeadPasses()
    {
        using var classifier = new SequenceClassificationModel(Llama(), 3, padTokenId: 0);
        var lora = LoraModel.Inject(classifier, new LoraConfig
        {
            R = 2, LoraAlpha = 4, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], ModulesToSave = ["score"], TaskType = "SEQ_CLS",
        });
        var dir = TinyModels.TempDir();
        lora.SaveAdapter(dir);
        var (code, output) = Check(dir, classifier.Body);
        Assert.True(code == 0, output);
        Assert.Contains($"ok: {7 * ((LlamaConfig)classifier.Body.Config).NumHiddenLayers} adapted modules", output);
    }
}

using System.Text.Json.Nodes;
using Farabi.IO;
using Farabi.Layers;
using Farabi.Lora;
using Farabi.Models;
using Farabi.Tests.Models;
using Xunit;
using static Farabi.Tests.Lora.LoraTestKit;
using static TorchSharp.torch;

namespace Farabi.Tests.Lora;

public class PeftFormatTests
{
    /// <summary>adapter_config.json as PEFT 0.13 writes it for GPT-2 with target_modules=["c_attn"] (every field it emits).</summary>
    static string PeftConfigJson(int r = 2, string peftType = "LORA", string extra = "") => $$"""
        {
          "alpha_pattern": {},
          "auto_mapping": null,
          "base_model_name_or_path": "tiny-gpt2",
          "bias": "none",
          "fan_in_fan_out": true,
          "inference_mode": true,
          "init_lora_weights": true,
          "layer_replication": null,
          "layers_pattern": null,
          "layers_to_transform": null,
          "loftq_config": {},
          "lora_alpha": 16,
          "lora_dropout": 0.05,
          "megatron_config": null,
          "megatron_core": "megatron.core",
          "modules_to_save": null,
          "peft_type": "{{peftType}}",
          "r": {{r}},
          "rank_pattern": {},
          "revision": null,
          "target_modules": [
            "c_attn"
          ],
          "task_type": "CAUSAL_LM",
          "use_dora": false,
          {{extra}}
          "use_rslora": false
        }
        """;

    /// <summary>Writes a PEFT-style adapter folder for the tiny GPT-2 (24 wide, 2 blocks) with the given tensors.</summary>
    static string WriteFixture(Dictionary<string, Tensor> tensors, string? configJson = null)
    {
        var dir = TinyModels.TempDir();
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), configJson ?? PeftConfigJson());
        Safetensors.Save(Path.Combine(dir, "adapter_model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        return dir;
    }

    static Dictionary<string, Tensor> FixtureTensors(int r = 2, int layers = 2, bool withB = true)
    {
        var t = new Dictionary<string, Tensor>();
        for (var i = 0; i < layers; i++)
        {
            var p = $"base_model.model.transformer.h.{i}.attn.c_attn.";
            t[p + "lora_A.weight"] = arange(r * 24, dtype: ScalarType.Float32).reshape(r, 24) / 100 - 0.2f * i;
            if (withB) t[p + "lora_B.weight"] = (arange(72 * r, dtype: ScalarType.Float32).reshape(72, r) / 500).cos();
        }
        return t;
    }

    [Fact]
    public void AnAdapterAsPeftSavesItLoadsAndComputesTheLoraFormula()
    {
        using var model = Gpt2();
        var tensors = FixtureTensors();
        var dir = WriteFixture(tensors);
        var lora = LoraModel.FromPretrained(model, dir);
        var layer = (LoraLinear)lora.Layers["transformer.h.1.attn.c_attn"];
        Assert.Equal(0, MaxDiff(layer.Factors("default").A, tensors["base_model.model.transformer.h.1.attn.c_attn.lora_A.weight"]));
        Assert.Equal(8.0, layer.Adapters["default"].Scaling); // lora_alpha 16 / r 2
        Assert.Equal(0, lora.TrainableParameters); // inference_mode: loaded frozen, as PEFT does
        var conv = (Conv1D)layer.base_layer;
        var x = randn(3, 24);
        using (no_grad())
        {
            var a = tensors["base_model.model.transformer.h.1.attn.c_attn.lora_A.weight"];
            var b = tensors["base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"];
            var expected = x.matmul(conv.weight) + conv.bias + x.matmul(a.t()).matmul(b.t()) * 8.0;
            // Through the hook, as the model calls it; the fixture's lora_dropout must not apply in eval mode.
            Assert.True(MaxDiff(expected, conv.call(x)) < 1e-5 * expected.abs().max().item<float>());
        }
    }

    [Fact]
    public void SavedAdapterHasPeftKeysShapesAndConfig()
    {
        using var model = Gpt2();
        var lora = LoraModel.Inject(model, new LoraConfig { R = 4, LoraAlpha = 16, LoraDropout = 0.05, TargetModules = ["c_attn"] });
        var dir = TinyModels.TempDir();
        lora.SaveAdapter(dir, baseModelNameOrPath: "tiny-gpt2");
        using var file = SafetensorsFile.Open(Path.Combine(dir, "adapter_model.safetensors"));
        Assert.Equal(
            ["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
             "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight", "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"],
            file.Entries.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal([4L, 24L], file.Entries["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"].Shape);
        Assert.Equal([72L, 4L], file.Entries["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"].Shape);
        Assert.Equal("pt", file.Metadata["format"]);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
        Assert.Equal("LORA", json["peft_type"]!.GetValue<string>());
        Assert.Equal("CAUSAL_LM", json["task_type"]!.GetValue<string>());
        Assert.Equal(4, json["r"]!.GetValue<int>());
        Assert.Equal(16, json["lora_alpha"]!.GetValue<int>());
        Assert.True(json["fan_in_fan_out"]!.GetValue<bool>());
        Assert.True(json["inference_mode"]!.GetValue<bool>());
        Assert.Equal("tiny-gpt2", json["base_model_name_or_path"]!.GetValue<string>());
        Assert.Equal(["c_attn"], json["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray());
        foreach (var key in new[] { "bias", "lora_dropout", "modules_to_save", "use_rslora", "use_dora" }) Assert.True(json.ContainsKey(key), key);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SaveAndLoadRoundTripReproducesOutputs(bool dora)
    {
        using var model = Llama();
        var ids = TinyModels.Ids(model.VocabSize, 2, 7);
        var lora = LoraModel.Inject(model, new LoraConfig { R = 3, LoraAlpha = 6, TargetModules = ["q_proj", "v_proj", "down_proj"], UseDora = dora, UseRsLora = true });
        Perturb(lora);
        var adapted = Logits(model, ids);
        var dir = TinyModels.TempDir();
        lora.SaveAdapter(dir);
        Assert.Contains("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", lora.AdapterStateDict().Keys);

        using var fresh = Llama();
        var loaded = LoraModel.FromPretrained(fresh, dir, isTrainable: true);
        Assert.True(MaxDiff(adapted, Logits(fresh, ids)) < 1e-6);
        Assert.Equal(lora.TrainableParameters, loaded.TrainableParameters);
        Assert.True(loaded.Configs["default"].UseRsLora);
        Assert.Equal(dora, loaded.Configs["default"].UseDora);
    }

    [Fact]
    public void WrongRankIsRejectedNamingTheKey()
    {
        using var model = Gpt2();
        var dir = WriteFixture(FixtureTensors(r: 4)); // config says r = 2
        var e = Assert.Throws<InvalidDataException>(() => LoraModel.FromPretrained(model, dir));
        Assert.Contains("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", e.Message);
        Assert.Contains("[4, 24]", e.Message);
        Assert.Contains("r = 2", e.Message);
        AssertUntouched(model);
    }

    [Fact]
    public void MissingTensorsAreRejected()
    {
        using var model = Gpt2();
        var dir = WriteFixture(FixtureTensors(withB: false));
        var e = Assert.Throws<InvalidDataException>(() => LoraModel.FromPretrained(model, dir));
        Assert.Contains("lacks", e.Message);
        Assert.Contains("lora_B.weight", e.Message);
        AssertUntouched(model);
    }

    [Fact]
    public void AnAdapterForAnotherBaseIsRejected()
    {
        using var model = Gpt2();
        var dir = WriteFixture(FixtureTensors(layers: 6)); // a 6-block base; this model has 2
        var e = Assert.Throws<InvalidDataException>(() => LoraModel.FromPretrained(model, dir));
        Assert.Contains("transformer.h.2.attn.c_attn", e.Message);
        Assert.Contains("another base model", e.Message);
        AssertUntouched(model);

        // A LLaMA adapter on GPT-2: its target modules match nothing.
        var llamaDir = WriteFixture(FixtureTensors(), PeftConfigJson().Replace("\"c_attn\"", "\"q_proj\", \"v_proj\""));
        var e2 = Assert.Throws<InvalidDataException>(() => LoraModel.FromPretrained(model, llamaDir));
        Assert.Contains("q_proj", e2.Message);
        AssertUntouched(model);
    }

    [Fact]
    public void BadConfigsAreRejectedNamingFileAndKey()
    {
        using var model = Gpt2();
        var ia3 = WriteFixture(FixtureTensors(), PeftConfigJson(peftType: "IA3"));
        Assert.Contains("IA3", Assert.Throws<NotSupportedException>(() => LoraModel.FromPretrained(model, ia3)).Message);

        var malformed = WriteFixture(FixtureTensors(), PeftConfigJson()[..^10]);
        var e = Assert.Throws<FormatException>(() => LoraModel.FromPretrained(model, malformed));
        Assert.Contains(Path.Combine(malformed, "adapter_config.json"), e.Message);

        var wrongType = WriteFixture(FixtureTensors(), PeftConfigJson().Replace("\"r\": 2", "\"r\": \"two\""));
        var e2 = Assert.Throws<FormatException>(() => LoraModel.FromPretrained(model, wrongType));
        Assert.Contains("'r'", e2.Message);

        var noWeights = TinyModels.TempDir();
        File.WriteAllText(Path.Combine(noWeights, "adapter_config.json"), PeftConfigJson());
        File.WriteAllText(Path.Combine(noWeights, "adapter_model.bin"), "pickle");
        Assert.Contains("adapter_model.bin", Assert.Throws<NotSupportedException>(() => LoraModel.FromPretrained(model, noWeights)).Message);
        AssertUntouched(model);
    }

    [Fact]
    public void ASecondAdapterLoadsBesideTheFirst()
    {
        using var model = Gpt2();
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "c_fc"));
        var dir = WriteFixture(FixtureTensors());
        lora.LoadAdapter(dir, "peft");
        Assert.Equal(["default", "peft"], lora.Configs.Keys.Order().ToArray());
        Assert.Equal("default", lora.ActiveAdapter);
        // A bad second adapter leaves the first in place.
        var bad = WriteFixture(FixtureTensors(r: 3));
        Assert.Throws<InvalidDataException>(() => lora.LoadAdapter(bad, "bad"));
        Assert.Equal(["default", "peft"], lora.Configs.Keys.Order().ToArray());
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains(".bad."));
    }

    [Fact]
    public void BiasOptionsTrainAndSaveTheRightBiases()
    {
        const int adapter = 2 * (2 * 24 + 72 * 2);
        using var model = Gpt2();
        var lora = LoraModel.Inject(model, new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = ["c_attn"], Bias = "lora_only" });
        Assert.Equal(adapter + 2 * 72, lora.TrainableParameters); // plus the two c_attn biases
        using (no_grad()) ((Conv1D)lora.Layers["transformer.h.0.attn.c_attn"].base_layer).bias.fill_(0.25f);
        var dir = TinyModels.TempDir();
        lora.SaveAdapter(dir);
        Assert.Contains("base_model.model.transformer.h.0.attn.c_attn.base_layer.bias", lora.AdapterStateDict().Keys);

        using var fresh = Gpt2();
        var loaded = LoraModel.FromPretrained(fresh, dir);
        Assert.Equal(0.25f, ((Conv1D)loaded.Layers["transformer.h.0.attn.c_attn"].base_layer).bias.mean().item<float>(), 6);

        using var other = Gpt2();
        var all = LoraModel.Inject(other, new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = ["c_attn"], Bias = "all" });
        // Every bias: per block ln_1 24, c_attn 72, attn c_proj 24, ln_2 24, c_fc 96, mlp c_proj 24; and ln_f 24.
        Assert.Equal(adapter + 2 * 264 + 24, all.TrainableParameters);
    }

    static void AssertUntouched(Gpt2LMHeadModel model)
    {
        Assert.Null(LoraModel.Of(model));
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("lora_") || k.Contains("base_layer"));
    }
}

using Farabi.Layers;
using Farabi.Lora;
using Farabi.Models;
using Farabi.Tests.Models;
using TorchSharp.Modules;
using Xunit;
using static Farabi.Tests.Lora.LoraTestKit;
using static TorchSharp.torch;

namespace Farabi.Tests.Lora;

public class LoraTests
{
    [Fact]
    public void LoraLinearComputesBasePlusScaledLowRankUpdate()
    {
        using var _ = TinyModels.Ids(10, 1, 1); // loads Farabi's native fix before torch is touched
        var linear = nn.Linear(6, 5);
        using var lora = new LoraLinear(linear);
        lora.AddAdapter("default", r: 2, alpha: 6);
        var (a, b) = lora.Factors("default");
        // Kaiming-uniform with a = sqrt(5): |A| <= 1/sqrt(in); B starts at zero.
        Assert.True(a.abs().max().item<float>() <= 1 / Math.Sqrt(6) + 1e-6);
        Assert.Equal(0f, b.abs().max().item<float>());
        using (no_grad()) b.normal_(0, 1);
        var x = randn(3, 4, 6);
        using (no_grad())
        {
            var expected = linear.forward(x) + x.matmul(a.t()).matmul(b.t()) * (6.0 / 2);
            Assert.True(MaxDiff(expected, lora.forward(x)) < 1e-5);
        }
        Assert.False(linear.weight!.requires_grad);
        Assert.False(linear.bias!.requires_grad);
        Assert.True(a.requires_grad && b.requires_grad);
    }

    [Fact]
    public void RsLoraScalesByAlphaOverSqrtRank()
    {
        using var _ = TinyModels.Ids(10, 1, 1);
        using var lora = new LoraLinear(new Conv1D(8, 4));
        lora.AddAdapter("plain", r: 4, alpha: 8);
        lora.AddAdapter("rs", r: 4, alpha: 8, useRsLora: true);
        Assert.Equal(2.0, lora.Adapters["plain"].Scaling);
        Assert.Equal(4.0, lora.Adapters["rs"].Scaling);
        Assert.True(lora.FanInFanOut);
        Assert.Equal([4L, 8L], lora.Factors("rs").A.shape);
        Assert.Equal([4L, 4L], lora.Factors("rs").B.shape);
    }

    [Theory]
    [InlineData("gpt2", false)]
    [InlineData("gpt2", true)]
    [InlineData("llama", false)]
    [InlineData("llama", true)]
    public void FreshAdapterLeavesOutputsUnchanged(string arch, bool dora)
    {
        using var model = arch == "gpt2" ? (CausalLanguageModel)Gpt2() : Llama();
        var ids = TinyModels.Ids(model.VocabSize, 2, 9);
        var before = Logits(model, ids);
        var lora = LoraModel.Inject(model, new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = ["all-linear"], UseDora = dora });
        Assert.True(lora.Layers.Count > 0);
        Assert.True(MaxDiff(before, Logits(model, ids)) < 1e-6);
    }

    [Theory]
    [InlineData("gpt2", false)]
    [InlineData("gpt2", true)]
    [InlineData("llama", false)]
    [InlineData("llama", true)]
    public void MergedAndUnmergedOutputsAgree(string arch, bool dora)
    {
        using var model = arch == "gpt2" ? (CausalLanguageModel)Gpt2() : Llama();
        var ids = TinyModels.Ids(model.VocabSize, 2, 9);
        var baseWeights = Snapshot(model);
        var lora = LoraModel.Inject(model, new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = ["all-linear"], UseDora = dora });
        Perturb(lora);
        var adapted = Logits(model, ids);
        Assert.True(MaxDiff(Logits(model, ids), adapted) < 1e-6);
        lora.Merge();
        var merged = Logits(model, ids);
        Assert.True(MaxDiff(adapted, merged) < 1e-5, $"merged differs by {MaxDiff(adapted, merged)}");
        lora.Unmerge();
        Assert.True(MaxDiff(adapted, Logits(model, ids)) < 1e-5);
        // Unmerging restores the base weights (their names now carry base_layer).
        var now = model.state_dict();
        foreach (var (name, w) in baseWeights)
        {
            var key = now.ContainsKey(name) ? name : name[..name.LastIndexOf('.')] + ".base_layer" + name[name.LastIndexOf('.')..];
            Assert.True(MaxDiff(w, now[key]) < 1e-5, name);
        }
        // And the adapter really changes the model.
        using (lora.DisableAdapters()) Assert.True(MaxDiff(adapted, Logits(model, ids)) > 1e-4);
    }

    [Fact]
    public void AdaptersApplyOnTheKeyValueCachePathToo()
    {
        using var model = Llama();
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "q_proj", "k_proj", "v_proj", "o_proj"));
        Perturb(lora);
        var ids = TinyModels.Ids(model.VocabSize, 1, 8);
        var full = Logits(model, ids);
        using var _ = no_grad();
        using var cache = model.NewCache();
        model.Forward(ids[.., ..5], cache);
        var stepped = model.Forward(ids[.., 5..], cache);
        Assert.True(MaxDiff(full[.., 5..], stepped) < 1e-5);
    }

    [Fact]
    public void OnlyAdapterParametersReceiveGradients()
    {
        using var model = Gpt2();
        model.train();
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "c_attn", "c_fc"));
        Perturb(lora); // B = 0 would leave A's gradient exactly zero
        var ids = TinyModels.Ids(model.VocabSize, 2, 9);
        var loss = model.forward(ids).square().mean();
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains(".lora_"))
            {
                Assert.True(p.requires_grad, name);
                Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} has no gradient");
            }
            else
            {
                Assert.False(p.requires_grad, name);
                Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0, $"{name} received a gradient");
            }
        }
    }

    [Fact]
    public void TrainableCountIsTheAdapterSize()
    {
        using var model = Gpt2();
        var total = model.ParameterCount();
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "c_attn"));
        // Two blocks, c_attn is 24 -> 72: A [4, 24] + B [72, 4] each.
        Assert.Equal(2 * (4 * 24 + 72 * 4), lora.TrainableParameters);
        Assert.Equal(total + 2 * (4 * 24 + 72 * 4), lora.TotalParameters);
        Assert.Equal(["transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn"], lora.Layers.Keys.Order().ToArray());
        Assert.Equal(["c_attn"], lora.Configs["default"].TargetModules);
        Assert.True(lora.Configs["default"].FanInFanOut);
        // PEFT's in-model names.
        var names = model.state_dict().Keys.ToHashSet();
        Assert.Contains("transformer.h.0.attn.c_attn.base_layer.weight", names);
        Assert.Contains("transformer.h.0.attn.c_attn.lora_A.default.weight", names);
        Assert.Contains("transformer.h.0.attn.c_attn.lora_B.default.weight", names);
    }

    [Fact]
    public void TargetsByRegexAndAllLinearExcludeTheHead()
    {
        using var llama = new LlamaForCausalLM(TinyModels.Llama(tied: false));
        var lora = LoraModel.Inject(llama, new LoraConfig { TargetModulesPattern = @".*\.(q|v)_proj" });
        Assert.Equal(4, lora.Layers.Count);
        Assert.All(lora.Layers.Keys, k => Assert.Matches(@"\.(q|v)_proj$", k));
        lora.Unload();
        var all = LoraModel.Inject(llama, new LoraConfig { TargetModules = [LoraConfig.AllLinear] });
        Assert.Equal(14, all.Layers.Count); // 7 linear layers per block, lm_head excluded
        Assert.DoesNotContain("lm_head", all.Layers.Keys);
        Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"], all.Configs["default"].TargetModules);
    }

    [Fact]
    public void TargetsThatMatchNothingAreRejected()
    {
        using var model = Gpt2();
        var e = Assert.Throws<ArgumentException>(() => LoraModel.Inject(model, LoraConfig.For(4, 8, "q_proj")));
        Assert.Contains("q_proj", e.Message);
        Assert.Contains("c_attn", e.Message);
        Assert.Null(LoraModel.Of(model));
    }

    [Fact]
    public void MergeAndUnloadGivesThePlainModelWithHfNames()
    {
        using var model = Gpt2();
        var names = model.state_dict().Keys.Order().ToArray();
        var ids = TinyModels.Ids(model.VocabSize, 2, 9);
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "c_attn", "c_proj", "c_fc"));
        Perturb(lora);
        var adapted = Logits(model, ids);
        var plain = (Gpt2LMHeadModel)lora.MergeAndUnload();
        Assert.Same(model, plain);
        Assert.Null(LoraModel.Of(model));
        Assert.Equal(names, plain.state_dict().Keys.Order().ToArray());
        Assert.All(plain.parameters(), p => Assert.True(p.requires_grad));
        Assert.True(MaxDiff(adapted, Logits(plain, ids)) < 1e-5);
        // Saved as HF, it loads as a plain GPT-2 with the same outputs.
        var dir = TinyModels.TempDir();
        plain.SaveHf(dir);
        using var loaded = CausalLanguageModel.Load(dir);
        Assert.True(MaxDiff(adapted, Logits(loaded, ids)) < 1e-5);
    }

    [Fact]
    public void UnloadRestoresTheBaseModel()
    {
        using var model = Llama();
        var ids = TinyModels.Ids(model.VocabSize, 2, 9);
        var before = Logits(model, ids);
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "q_proj", "v_proj"));
        Perturb(lora);
        lora.Merge();
        lora.Unload();
        Assert.True(MaxDiff(before, Logits(model, ids)) < 1e-5);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("lora_") || k.Contains("base_layer"));
    }

    [Fact]
    public void EmbeddingAdapterFollowsPeftInitAndMerges()
    {
        using var model = Llama();
        var ids = TinyModels.Ids(model.VocabSize, 2, 9);
        var before = Logits(model, ids);
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "embed_tokens"));
        var layer = Assert.IsType<LoraEmbedding>(lora.Layers["model.embed_tokens"]);
        var (a, b) = layer.Factors("default");
        Assert.Equal([4L, 67L], a.shape);
        Assert.Equal([32L, 4L], b.shape);
        Assert.Equal(0f, a.abs().max().item<float>()); // A zero, B normal: PEFT's embedding init
        Assert.True(b.std().item<float>() > 0.5);
        Assert.True(MaxDiff(before, Logits(model, ids)) < 1e-6);
        Perturb(lora);
        var adapted = Logits(model, ids);
        Assert.True(MaxDiff(before, adapted) > 1e-4);
        lora.Merge();
        Assert.True(MaxDiff(adapted, Logits(model, ids)) < 1e-5);
        Assert.Equal(["lora_embedding_A", "lora_embedding_B"], lora.AdapterStateDict().Keys.Select(k => k[(k.LastIndexOf('.') + 1)..]).Order().ToArray());
    }

    [Fact]
    public void DoraStartsAtTheWeightNormsAndTrainsTheMagnitude()
    {
        using var model = Llama();
        var lora = LoraModel.Inject(model, new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = ["q_proj"], UseDora = true });
        var layer = (LoraLinear)lora.Layers["model.layers.0.self_attn.q_proj"];
        var w = ((Linear)layer.base_layer).weight!;
        var m = layer.lora_magnitude_vector["default"].weight;
        Assert.True(MaxDiff(m, w.pow(2).sum(1).sqrt()) < 1e-6);
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", lora.AdapterStateDict().Keys);
        model.train();
        var loss = model.forward(TinyModels.Ids(model.VocabSize, 2, 5)).square().mean();
        loss.backward();
        Assert.True(m.grad is not null && m.grad.abs().sum().item<float>() > 0);
        Assert.True(lora.TrainableParameters == 2 * (2 * 32 + 32 * 2 + 32));
    }

    [Fact]
    public void SeveralAdaptersSwitchDisableAndDelete()
    {
        using var model = Gpt2();
        var ids = TinyModels.Ids(model.VocabSize, 2, 9);
        var baseLogits = Logits(model, ids);
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "c_attn"), "a");
        lora.AddAdapter("b", LoraConfig.For(2, 2, "c_attn", "c_fc"), seed: 9);
        Perturb(lora, "a", seed: 1);
        Perturb(lora, "b", seed: 2);
        Assert.Equal("a", lora.ActiveAdapter);
        var withA = Logits(model, ids);
        // Only the active adapter trains.
        Assert.All(model.named_parameters().Where(p => p.name.Contains(".b.") || p.name.EndsWith(".b")), p => Assert.False(p.parameter.requires_grad));
        lora.SetAdapter("b");
        var withB = Logits(model, ids);
        Assert.True(MaxDiff(withA, withB) > 1e-4);
        Assert.Equal(2 * (2 * 24 + 72 * 2) + 2 * (2 * 24 + 96 * 2), lora.TrainableParameters);
        using (lora.DisableAdapters())
            Assert.True(MaxDiff(baseLogits, Logits(model, ids)) < 1e-6);
        Assert.True(MaxDiff(withB, Logits(model, ids)) < 1e-6);
        lora.DeleteAdapter("b");
        Assert.Equal("a", lora.ActiveAdapter);
        Assert.True(MaxDiff(withA, Logits(model, ids)) < 1e-6);
        // c_fc only carried "b": it has its base layer back.
        Assert.IsType<Conv1D>(model.named_modules().First(m => m.name == "transformer.h.0.mlp.c_fc").module);
        Assert.Throws<InvalidOperationException>(() => lora.DeleteAdapter("a"));
    }

    [Fact]
    public void CatCombinationIsTheWeightedSumOfUpdates()
    {
        using var model = Gpt2();
        var lora = LoraModel.Inject(model, LoraConfig.For(4, 8, "c_attn"), "a");
        lora.AddAdapter("b", LoraConfig.For(2, 6, "c_attn"), seed: 5);
        Perturb(lora, "a", seed: 1);
        Perturb(lora, "b", seed: 2);
        lora.AddWeightedAdapter([("a", 0.7), ("b", 0.3)], "combo", "cat");
        var layer = lora.Layers["transformer.h.1.attn.c_attn"];
        Assert.Equal(6, layer.Adapters["combo"].R);
        var expected = layer.DeltaWeight("a") * 0.7 + layer.DeltaWeight("b") * 0.3;
        Assert.True(MaxDiff(expected, layer.DeltaWeight("combo")) < 1e-5);
        Assert.Equal(6, lora.Configs["combo"].R);
        // "linear" keeps the rank; with one adapter at weight 1 it reproduces that adapter.
        lora.AddWeightedAdapter([("a", 1.0)], "same", "linear");
        Assert.Equal(4, layer.Adapters["same"].R);
        Assert.True(MaxDiff(layer.DeltaWeight("a"), layer.DeltaWeight("same")) < 1e-5);
        Assert.Throws<ArgumentException>(() => lora.AddWeightedAdapter([("a", 0.5), ("b", 0.5)], "bad", "linear"));
    }
}

using Farabi.IO;
using Farabi.Models;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Models;

public class Gpt2Tests
{
    /// <summary>HF GPT2LMHeadModel's state_dict for GPT-2 small (transformers 4.x), written out by hand.</summary>
    static Dictionary<string, long[]> HfGpt2SmallStateDict()
    {
        var keys = new Dictionary<string, long[]>
        {
            ["transformer.wte.weight"] = [50257, 768],
            ["transformer.wpe.weight"] = [1024, 768],
            ["transformer.ln_f.weight"] = [768],
            ["transformer.ln_f.bias"] = [768],
            ["lm_head.weight"] = [50257, 768],
        };
        for (var i = 0; i < 12; i++)
        {
            var p = $"transformer.h.{i}.";
            keys[p + "ln_1.weight"] = [768];
            keys[p + "ln_1.bias"] = [768];
            keys[p + "attn.c_attn.weight"] = [768, 2304];
            keys[p + "attn.c_attn.bias"] = [2304];
            keys[p + "attn.c_proj.weight"] = [768, 768];
            keys[p + "attn.c_proj.bias"] = [768];
            keys[p + "ln_2.weight"] = [768];
            keys[p + "ln_2.bias"] = [768];
            keys[p + "mlp.c_fc.weight"] = [768, 3072];
            keys[p + "mlp.c_fc.bias"] = [3072];
            keys[p + "mlp.c_proj.weight"] = [3072, 768];
            keys[p + "mlp.c_proj.bias"] = [768];
        }
        return keys;
    }

    [Fact]
    public void Gpt2SmallHasHfNamesShapesAnd124MParameters()
    {
        using var model = new Gpt2LMHeadModel(new Gpt2Config());
        Assert.Equal(124_439_808, model.ParameterCount());
        var expected = HfGpt2SmallStateDict();
        // The tied head is the embedding itself: HF's state_dict lists it, its safetensors files omit it, and so does ours.
        expected.Remove("lm_head.weight");
        var actual = model.state_dict();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in expected) Assert.True(shape.SequenceEqual(actual[key].shape), $"{key}: [{string.Join(",", actual[key].shape)}]");
        Assert.Null(model.lm_head);
    }

    [Fact]
    public void UntiedGpt2HasAnLmHeadOfItsOwn()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2(tied: false));
        Assert.True(model.state_dict().ContainsKey("lm_head.weight"));
        using var tied = new Gpt2LMHeadModel(TinyModels.Gpt2());
        Assert.Equal(tied.ParameterCount() + 61 * 24, model.ParameterCount());
    }

    [Fact]
    public void InitialisationFollowsGpt2()
    {
        using var model = new Gpt2LMHeadModel(new Gpt2Config { NEmbd = 256, NHead = 4, NLayer = 8, VocabSize = 1000, NPositions = 64 });
        var sd = model.state_dict();
        Assert.Equal(0.02, sd["transformer.h.0.mlp.c_fc.weight"].std().item<float>(), 0.001);
        Assert.Equal(0.02 / Math.Sqrt(16), sd["transformer.h.3.mlp.c_proj.weight"].std().item<float>(), 0.0005);
        Assert.Equal(0.02 / Math.Sqrt(16), sd["transformer.h.3.attn.c_proj.weight"].std().item<float>(), 0.0005);
        Assert.Equal(0f, sd["transformer.h.0.attn.c_attn.bias"].abs().max().item<float>());
        Assert.Equal(1f, sd["transformer.ln_f.weight"].mean().item<float>());
        // Same seed, same weights; another seed, other weights.
        using var again = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 5);
        using var same = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 5);
        using var other = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 6);
        Assert.True(again.state_dict()["transformer.wte.weight"].equal(same.state_dict()["transformer.wte.weight"]).all().item<bool>());
        Assert.False(again.state_dict()["transformer.wte.weight"].equal(other.state_dict()["transformer.wte.weight"]).all().item<bool>());
    }

    [Fact]
    public void ForwardGivesLogitsAndHiddenStates()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2());
        model.eval();
        var ids = TinyModels.Ids(61, 2, 10);
        using var logits = model.Forward(ids);
        using var hidden = model.Hidden(ids);
        Assert.Equal([2L, 10, 61], logits.shape);
        Assert.Equal([2L, 10, 24], hidden.shape);
        // The head is the embedding matrix: logits = hidden @ wte^T.
        Assert.True(logits.allclose(hidden.matmul(model.transformer.wte.weight!.t()), atol: 1e-5));
        Assert.Throws<ArgumentException>(() => model.Forward(TinyModels.Ids(61, 1, 33)));
    }

    [Fact]
    public void ForwardEqualsAStepByStepReference()
    {
        // GPT-2 written out with plain tensor maths, one head at a time (the HF/OpenAI formulas): catches a
        // wrong q/k/v split, GELU variant, norm placement or mask that self-consistency tests would not.
        var config = TinyModels.Gpt2();
        using var model = new Gpt2LMHeadModel(config, seed: 21);
        model.eval();
        using var g = new Generator(5, CPU);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith(".bias") || name.Contains("ln_")) p.add_(randn(p.shape, generator: g) * 0.1);
        var sd = model.state_dict();
        const int T = 9, C = 24, H = 3, D = 8;
        var ids = TinyModels.Ids(61, 1, T);
        Tensor Ln(Tensor x, string prefix)
        {
            var mean = x.mean([-1L], keepdim: true);
            var variance = (x - mean).pow(2).mean([-1L], keepdim: true);
            return (x - mean) / (variance + 1e-5).sqrt() * sd[prefix + ".weight"] + sd[prefix + ".bias"];
        }
        Tensor Affine(Tensor x, string prefix) => x.matmul(sd[prefix + ".weight"]) + sd[prefix + ".bias"];
        var x = sd["transformer.wte.weight"].index_select(0, ids[0]) + sd["transformer.wpe.weight"][..T];
        var future = ones(T, T).triu(1).to_type(ScalarType.Bool);
        for (var l = 0; l < config.NLayer; l++)
        {
            var p = $"transformer.h.{l}.";
            var qkv = Affine(Ln(x, p + "ln_1"), p + "attn.c_attn");
            var heads = new List<Tensor>();
            for (var h = 0; h < H; h++)
            {
                var q = qkv[.., (h * D)..((h + 1) * D)];
                var k = qkv[.., (C + h * D)..(C + (h + 1) * D)];
                var v = qkv[.., (2 * C + h * D)..(2 * C + (h + 1) * D)];
                var scores = q.matmul(k.t()) / Math.Sqrt(D);
                heads.Add(scores.masked_fill(future, double.NegativeInfinity).softmax(-1).matmul(v));
            }
            x = x + Affine(cat(heads, -1), p + "attn.c_proj");
            var m = Affine(Ln(x, p + "ln_2"), p + "mlp.c_fc");
            m = 0.5 * m * (1 + (Math.Sqrt(2 / Math.PI) * (m + 0.044715 * m.pow(3))).tanh());
            x = x + Affine(m, p + "mlp.c_proj");
        }
        var expected = Ln(x, "transformer.ln_f").matmul(sd["transformer.wte.weight"].t());
        using var logits = model.Forward(ids);
        var diff = (logits[0] - expected).abs().max().item<float>();
        Assert.True(diff < 1e-5, $"max |difference| {diff}");
    }

    [Fact]
    public void FutureTokensDoNotChangePastLogits()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2());
        model.eval();
        var ids = TinyModels.Ids(61, 1, 12);
        var changed = ids.clone();
        changed[0, 8] = (ids[0, 8] + 1) % 61;
        using var a = model.Forward(ids);
        using var b = model.Forward(changed);
        Assert.True(a[.., ..8].allclose(b[.., ..8], atol: 1e-6), "positions before the change are unaffected");
        Assert.False(a[.., 8..].allclose(b[.., 8..], atol: 1e-3), "positions from the change on do see it");
    }

    [Fact]
    public void SaveHfThenLoadGivesTheSameLogits()
    {
        var dir = TinyModels.TempDir();
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 11);
        model.eval();
        model.SaveHf(dir);
        using (var file = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors")))
        {
            Assert.DoesNotContain("lm_head.weight", file.Entries.Keys);
            Assert.Equal("pt", file.Metadata["format"]);
        }
        var configText = File.ReadAllText(Path.Combine(dir, "config.json"));
        Assert.Contains("\"model_type\": \"gpt2\"", configText);
        Assert.Contains("GPT2LMHeadModel", configText);
        using var loaded = CausalLanguageModel.Load(dir);
        Assert.IsType<Gpt2LMHeadModel>(loaded);
        Assert.Equal(model.Config, loaded.Config);
        var ids = TinyModels.Ids(61, 2, 9);
        Assert.True(model.Forward(ids).equal(loaded.Forward(ids)).all().item<bool>());
    }

    [Fact]
    public void OpenAiStyleKeysWithoutPrefixAndMaskBuffersLoad()
    {
        var dir = TinyModels.TempDir();
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 3);
        // The layout of openai-community/gpt2's model.safetensors: saved from GPT2Model, so no "transformer."
        // prefix, plus the old causal-mask buffers.
        var tensors = model.state_dict().ToDictionary(kv => kv.Key["transformer.".Length..], kv => kv.Value);
        tensors["h.0.attn.bias"] = ones(1, 1, 32, 32).tril();
        var path = Path.Combine(dir, "model.safetensors");
        Safetensors.Save(path, tensors);
        using var fresh = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 4);
        var report = fresh.LoadWeights(path);
        Assert.Empty(report.Missing);
        Assert.Empty(report.Unexpected);
        Assert.True(fresh.transformer.wte.weight!.equal(model.transformer.wte.weight!).all().item<bool>());
    }

    [Fact]
    public void ShapeMismatchNamesTheKeyAndBothShapes()
    {
        var dir = TinyModels.TempDir();
        using var small = new Gpt2LMHeadModel(TinyModels.Gpt2());
        small.SaveHf(dir);
        using var wider = new Gpt2LMHeadModel(TinyModels.Gpt2() with { NEmbd = 30 });
        var e = Assert.Throws<InvalidDataException>(() => wider.LoadWeights(Path.Combine(dir, "model.safetensors")));
        // Whichever key comes first, the message names it with the file's and the model's shapes.
        Assert.Matches(@"tensor 'transformer\.[a-z0-9_.]+' has shape \[[0-9, ]+\] but the model expects \[[0-9, ]+\]", e.Message);
    }

    [Fact]
    public void MissingAndUnexpectedKeysAreErrorsWhenStrictAndReportedOtherwise()
    {
        var dir = TinyModels.TempDir();
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2());
        var tensors = model.state_dict().Where(kv => kv.Key != "transformer.ln_f.bias").ToDictionary();
        tensors["transformer.extra.weight"] = zeros(3);
        var path = Path.Combine(dir, "partial.safetensors");
        Safetensors.Save(path, tensors);
        var e = Assert.Throws<InvalidDataException>(() => model.LoadWeights(path));
        Assert.Contains("missing transformer.ln_f.bias", e.Message);
        Assert.Contains("unexpected transformer.extra.weight", e.Message);
        var report = model.LoadWeights(path, strict: false);
        Assert.Equal(["transformer.ln_f.bias"], report.Missing);
        Assert.Equal(["transformer.extra.weight"], report.Unexpected);
    }
}

public class CausalLanguageModelTests
{
    [Fact]
    public void LossIsTheMeanCrossEntropyOfTheCountedTargets()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 2);
        model.eval();
        var ids = TinyModels.Ids(61, 2, 6);
        var targets = TinyModels.Ids(61, 2, 6, seed: 8);
        targets[1, 3] = -100;
        using var logits = model.Forward(ids);
        var logProbs = logits.log_softmax(-1);
        double sum = 0; var n = 0;
        for (var b = 0; b < 2; b++)
            for (var t = 0; t < 6; t++)
            {
                var target = targets[b, t].item<long>();
                if (target == -100) continue;
                sum -= logProbs[b, t, target].item<float>();
                n++;
            }
        Assert.Equal(sum / n, model.Loss(ids, targets).item<float>(), 5);
        // An untrained model is close to uniform: loss near ln(vocab).
        Assert.Equal(Math.Log(61), model.Loss(ids, targets).item<float>(), 0);
    }

    [Fact]
    public void TrainingFlopsFollowTheNanoGptEstimate()
    {
        using var model = new Gpt2LMHeadModel(Gpt2Config.Small);
        // nanoGPT's estimate_mfu for GPT-2 small at T = 1024: N = 124,439,808 - 786,432 (wpe).
        Assert.Equal(6.0 * 123_653_376 + 12.0 * 12 * 768 * 1024, model.TrainingFlopsPerToken(1024));
    }
}

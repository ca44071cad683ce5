using Farabi.IO;
using Farabi.Models;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Models;

public class LlamaTests
{
    [Fact]
    public void ParametersHaveHfNamesAndShapes()
    {
        using var model = new LlamaForCausalLM(TinyModels.Llama(kvHeads: 2));
        var sd = model.state_dict();
        var expected = new Dictionary<string, long[]>
        {
            ["model.embed_tokens.weight"] = [67, 32],
            ["model.norm.weight"] = [32],
            ["lm_head.weight"] = [67, 32],
        };
        for (var i = 0; i < 2; i++)
        {
            var p = $"model.layers.{i}.";
            expected[p + "self_attn.q_proj.weight"] = [32, 32];
            expected[p + "self_attn.k_proj.weight"] = [16, 32]; // 2 kv heads of 8
            expected[p + "self_attn.v_proj.weight"] = [16, 32];
            expected[p + "self_attn.o_proj.weight"] = [32, 32];
            expected[p + "mlp.gate_proj.weight"] = [40, 32];
            expected[p + "mlp.up_proj.weight"] = [40, 32];
            expected[p + "mlp.down_proj.weight"] = [32, 40];
            expected[p + "input_layernorm.weight"] = [32];
            expected[p + "post_attention_layernorm.weight"] = [32];
        }
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), sd.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in expected) Assert.True(shape.SequenceEqual(sd[key].shape), key);
        Assert.Equal(expected.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b)), model.ParameterCount());
    }

    [Theory]
    [InlineData(4)]
    [InlineData(2)]
    [InlineData(1)]
    public void FutureTokensDoNotChangePastLogits(int kvHeads)
    {
        using var model = new LlamaForCausalLM(TinyModels.Llama(kvHeads));
        model.eval();
        var ids = TinyModels.Ids(67, 2, 12);
        var changed = ids.clone();
        changed[.., 7] = (ids[.., 7] + 1) % 67;
        using var a = model.Forward(ids);
        using var b = model.Forward(changed);
        Assert.True(a[.., ..7].allclose(b[.., ..7], atol: 1e-6));
        Assert.False(a[.., 7..].allclose(b[.., 7..], atol: 1e-3));
    }

    [Fact]
    public void SaveHfThenLoadGivesTheSameLogitsTiedOrNot()
    {
        foreach (var tied in new[] { false, true })
        {
            var dir = TinyModels.TempDir();
            using var model = new LlamaForCausalLM(TinyModels.Llama(tied: tied), seed: 9);
            model.eval();
            model.SaveHf(dir);
            using (var file = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors")))
                Assert.Equal(!tied, file.Entries.ContainsKey("lm_head.weight"));
            Assert.Contains("\"model_type\": \"llama\"", File.ReadAllText(Path.Combine(dir, "config.json")));
            using var loaded = CausalLanguageModel.Load(dir);
            Assert.IsType<LlamaForCausalLM>(loaded);
            Assert.Equal(model.Config, loaded.Config);
            var ids = TinyModels.Ids(67, 1, 11);
            Assert.True(model.Forward(ids).equal(loaded.Forward(ids)).all().item<bool>());
        }
    }

    [Fact]
    public void AdjacentPairRotationEqualsHalfRotationAfterThePermutation()
    {
        // One head of size 8, one position: rotating adjacent pairs of W x must equal rotating halves of
        // P W x, up to the same row permutation P; so q.k is unchanged.
        _ = TinyModels.Llama();
        using var g = new Generator(1, CPU);
        var w = randn([8, 5], generator: g);
        var x = randn([5], generator: g);
        const int pos = 3;
        var y = w.matmul(x);
        var adjacent = zeros(8);
        for (var i = 0; i < 8; i += 2)
        {
            var angle = pos * Math.Pow(10000, -(double)i / 8);
            var (a, b) = (y[i].item<float>(), y[i + 1].item<float>());
            adjacent[i] = (float)(a * Math.Cos(angle) - b * Math.Sin(angle));
            adjacent[i + 1] = (float)(a * Math.Sin(angle) + b * Math.Cos(angle));
        }
        var permuted = Llama2cImporter.AdjacentToHalfRotation(w, heads: 1).matmul(x).view(1, 1, 1, 8);
        var (cos, sin) = Farabi.Layers.RotaryEmbedding.Table(pos, 1, 8, 10000, CPU);
        var half = Farabi.Layers.RotaryEmbedding.Apply(permuted, cos, sin).view(8);
        var order = new long[] { 0, 2, 4, 6, 1, 3, 5, 7 }; // row 2i+c of llama2.c is row c*4+i of HF
        Assert.True(half.allclose(adjacent[tensor(order)], atol: 1e-5));
    }
}

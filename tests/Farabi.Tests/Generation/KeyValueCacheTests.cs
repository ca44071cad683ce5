using Farabi.Models;
using Farabi.Tests.Models;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Generation;

public class KeyValueCacheTests
{
    public static TheoryData<string> Architectures => new() { "gpt2", "llama-gqa", "llama-mqa", "llama-mha" };

    static CausalLanguageModel Build(string arch) => arch switch
    {
        "gpt2" => new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 2),
        "llama-gqa" => new LlamaForCausalLM(TinyModels.Llama(kvHeads: 2), seed: 2),
        "llama-mqa" => new LlamaForCausalLM(TinyModels.Llama(kvHeads: 1), seed: 2),
        _ => new LlamaForCausalLM(TinyModels.Llama(kvHeads: 4), seed: 2),
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void IncrementalLogitsEqualFullForwardLogits(string arch)
    {
        using var model = Build(arch);
        model.eval();
        using var _ = no_grad();
        var ids = TinyModels.Ids(model.VocabSize, 2, 14);
        using var full = model.Forward(ids);
        using var cache = model.NewCache();
        // A prompt of 5, then single tokens, then a chunk of 3 (queries after a cache need the shifted mask), then singles.
        var pieces = new (int Start, int Length)[] { (0, 5), (5, 1), (6, 1), (7, 3), (10, 1), (11, 1), (12, 2) };
        foreach (var (start, length) in pieces)
        {
            using var step = model.Forward(ids[.., start..(start + length)], cache);
            var diff = (step - full[.., start..(start + length)]).abs().max().item<float>();
            Assert.True(diff < 1e-5, $"{arch}: positions {start}..{start + length - 1} differ by {diff}");
        }
        Assert.Equal(14, cache.Length);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void ExpandedPromptCacheGivesEachRowItsOwnContinuation(string arch)
    {
        using var model = Build(arch);
        model.eval();
        using var _ = no_grad();
        var prompt = TinyModels.Ids(model.VocabSize, 1, 6);
        var rows = TinyModels.Ids(model.VocabSize, 3, 4);
        using var cache = model.NewCache();
        model.Forward(prompt, cache).Dispose();
        cache.ExpandBatch(3);
        using var cached = model.Forward(rows, cache);
        for (var b = 0; b < 3; b++)
        {
            using var full = model.Forward(cat([prompt, rows[b..(b + 1)]], 1));
            var diff = (cached[b] - full[0, 6..]).abs().max().item<float>();
            Assert.True(diff < 1e-5, $"{arch}: row {b} differs by {diff}");
        }
        Assert.Throws<InvalidOperationException>(() => cache.ExpandBatch(2)); // three rows now, not one
    }

    [Fact]
    public void CacheRefusesMorePositionsThanItHolds()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2());
        using var cache = model.NewCache(capacity: 4);
        using var _ = no_grad();
        model.Forward(TinyModels.Ids(61, 1, 4), cache).Dispose();
        Assert.Throws<InvalidOperationException>(() => model.Forward(TinyModels.Ids(61, 1, 1), cache));
    }
}

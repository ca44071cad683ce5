using Farabi.Generation;
using Farabi.Models;
using Farabi.Tests.Models;
using Xunit;

namespace Farabi.Tests.Generation;

public class TokenGeneratorTests
{
    [Fact]
    public void SameSeedSameTokensOtherSeedOtherTokens()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 1);
        var options = new GenerationOptions { MaxNewTokens = 20, Seed = 123, Sampling = new() { Temperature = 1.0, TopK = 40 } };
        var a = TokenGenerator.Generate(model, [1, 2], options).Tokens;
        var b = TokenGenerator.Generate(model, [1, 2], options).Tokens;
        var c = TokenGenerator.Generate(model, [1, 2], options with { Seed = 124 }).Tokens;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(22, a.Count);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void CachedAndUncachedGenerationAgreeEvenPastTheContext(string arch)
    {
        // 50 new tokens on a 32/48-token context: the window slides, the cache is rebuilt.
        using CausalLanguageModel model = arch == "gpt2"
            ? new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 4)
            : new LlamaForCausalLM(TinyModels.Llama(), seed: 4);
        foreach (var temperature in new[] { 0.0, 0.8 })
        {
            var options = new GenerationOptions { MaxNewTokens = 60, Seed = 9, Sampling = new() { Temperature = temperature } };
            var cached = TokenGenerator.Generate(model, [3, 5, 7], options);
            var uncached = TokenGenerator.Generate(model, [3, 5, 7], options with { UseCache = false });
            Assert.Equal(uncached.Tokens, cached.Tokens);
            Assert.Equal(63, cached.Tokens.Count);
        }
    }

    [Fact]
    public void StopTokenEndsGenerationAndStreamingSeesEveryToken()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed: 6);
        var greedy = new GenerationOptions { MaxNewTokens = 12, Sampling = new() { Temperature = 0 } };
        var full = TokenGenerator.Generate(model, [0], greedy);
        var stopAt = full.Tokens[4]; // the 4th new token
        var firstIndex = full.Tokens.Skip(1).ToList().IndexOf(stopAt);
        var streamed = new List<int>();
        var stopped = TokenGenerator.Generate(model, [0], greedy with { StopTokens = new HashSet<int> { stopAt } }, streamed.Add);
        Assert.Equal(StopReason.StopToken, stopped.StopReason);
        Assert.Equal(full.Tokens.Take(firstIndex + 2), stopped.Tokens);
        Assert.Equal(stopped.NewTokens, streamed);
        Assert.Equal(StopReason.MaxNewTokens, full.StopReason);
    }

    [Fact]
    public void GenerationLeavesTheModelInItsMode()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2());
        model.train();
        TokenGenerator.Generate(model, [1], new GenerationOptions { MaxNewTokens = 2 });
        Assert.True(model.training);
    }

    [Fact]
    public void BadPromptsAreRejected()
    {
        using var model = new Gpt2LMHeadModel(TinyModels.Gpt2());
        Assert.Throws<ArgumentException>(() => TokenGenerator.Generate(model, [], new GenerationOptions()));
        Assert.Throws<ArgumentException>(() => TokenGenerator.Generate(model, [61], new GenerationOptions()));
    }
}

public class GenerationMemoryTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GenerationLeavesNoLiveTensorsBehind(bool useCache)
    {
        using var model = new LlamaForCausalLM(TinyModels.Llama(), seed: 1);
        var options = new GenerationOptions { MaxNewTokens = 5, UseCache = useCache, Seed = 1, Sampling = new() { TopK = 5, TopP = 0.9 } };
        TokenGenerator.Generate(model, [1, 2, 3], options); // first call may create lasting state
        var stats = TorchSharp.DisposeScopeManager.Statistics;
        var before = stats.ThreadTotalLiveCount;
        TokenGenerator.Generate(model, [1, 2, 3], options with { MaxNewTokens = 40 });
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }
}

using Farabi.Models;
using static TorchSharp.torch;

namespace Farabi.Generation;

/// <summary>What <see cref="TokenGenerator.Generate"/> produces and how long.</summary>
public sealed record GenerationOptions
{
    /// <summary>The most tokens to add after the prompt.</summary>
    public int MaxNewTokens { get; init; } = 100;

    /// <summary>Temperature, top-k and top-p.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Ids that end generation; the stop id itself is returned as the last token.</summary>
    public IReadOnlySet<int> StopTokens { get; init; } = new HashSet<int>();

    /// <summary>Seeds the draws; null uses torch's global generator.</summary>
    public long? Seed { get; init; }

    /// <summary>Reuses keys and values of earlier positions (same tokens, much faster); off re-runs the whole window each step.</summary>
    public bool UseCache { get; init; } = true;
}

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were produced.</summary>
    MaxNewTokens,
    /// <summary>A token of <see cref="GenerationOptions.StopTokens"/> was produced.</summary>
    StopToken,
}

/// <summary>The prompt followed by the new tokens, and why generation stopped.</summary>
public sealed record GenerationResult(IReadOnlyList<int> Tokens, int PromptLength, StopReason StopReason)
{
    /// <summary>Only the generated tokens.</summary>
    public IEnumerable<int> NewTokens => Tokens.Skip(PromptLength);
}

/// <summary>
/// Autoregressive generation for any <see cref="CausalLanguageModel"/>: one token at a time, through a
/// key-value cache, sampled by <see cref="Sampler"/>, streamed to a callback as each id appears.
/// </summary>
/// <remarks>
/// Runs under <c>no_grad</c> with a dispose scope per step, in eval mode (restored afterwards). When the
/// sequence outgrows the context, the model sees only the last <c>ContextLength</c> tokens (as nanoGPT's
/// sample does); with a cache that means re-reading that window, so cached and uncached generation give
/// the same tokens.
/// </remarks>
public static class TokenGenerator
{
    /// <summary>Continues <paramref name="prompt"/>; <paramref name="onToken"/> receives each new id as it is drawn.</summary>
    /// <exception cref="ArgumentException">An empty prompt, an id outside the vocabulary, or bad options.</exception>
    public static GenerationResult Generate(CausalLanguageModel model, IReadOnlyList<int> prompt, GenerationOptions options,
        Action<int>? onToken = null, CancellationToken cancellationToken = default)
    {
        if (prompt.Count == 0) throw new ArgumentException("The prompt must contain at least one token id (e.g. the BOS id).");
        foreach (var id in prompt)
            if (id < 0 || id >= model.VocabSize) throw new ArgumentException($"Prompt token id {id} is outside the model's vocabulary of {model.VocabSize}.");
        if (options.MaxNewTokens < 0) throw new ArgumentException($"max-new-tokens must be 0 or more; got {options.MaxNewTokens}.");
        options.Sampling.Validate();

        var tokens = new List<int>(prompt);
        var wasTraining = model.training;
        model.eval();
        var device = model.parameters().First().device;
        using var generator = options.Seed is long seed ? new Generator((ulong)seed, device) : null;
        using var cache = options.UseCache ? model.NewCache() : null;
        var reason = StopReason.MaxNewTokens;
        try
        {
            using var _ = no_grad();
            var fed = 0; // how many of `tokens` the cache has seen
            for (var step = 0; step < options.MaxNewTokens; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                Tensor input;
                if (cache == null)
                    input = Window(tokens, tokens.Count - Math.Min(tokens.Count, model.ContextLength), device);
                else
                {
                    if (cache.Length + (tokens.Count - fed) > model.ContextLength)
                    {
                        // Full: start over on the last ContextLength tokens, like the uncached path.
                        cache.Clear();
                        fed = tokens.Count - Math.Min(tokens.Count, model.ContextLength);
                    }
                    input = Window(tokens, fed, device);
                    fed = tokens.Count;
                }
                // Only the last position's logits are needed: skip the head on the rest of the window.
                var hidden = model.Hidden(input, cache);
                var logits = model.Head(hidden[.., -1]);
                var next = (int)Sampler.Sample(logits, options.Sampling, generator).item<long>();
                tokens.Add(next);
                onToken?.Invoke(next);
                if (options.StopTokens.Contains(next)) { reason = StopReason.StopToken; break; }
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return new GenerationResult(tokens, prompt.Count, reason);
    }

    static Tensor Window(List<int> tokens, int start, Device device)
    {
        var ids = new long[tokens.Count - start];
        for (var i = 0; i < ids.Length; i++) ids[i] = tokens[start + i];
        return tensor(ids, ScalarType.Int64, device).view(1, -1);
    }
}

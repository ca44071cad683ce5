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
        Validate(model, prompt, options);

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

    /// <summary>
    /// Draws <paramref name="count"/> independent continuations of one prompt in a single batch (for best-of-N
    /// and sampling-based evaluation): one forward pass per step for all of them, through one cache. Each row
    /// stops at its own stop token; the batch ends when every row has stopped or after MaxNewTokens.
    /// </summary>
    /// <exception cref="ArgumentException">An empty prompt, an id outside the vocabulary, a count below 1, or bad options.</exception>
    public static IReadOnlyList<GenerationResult> GenerateMany(CausalLanguageModel model, IReadOnlyList<int> prompt, int count,
        GenerationOptions options, CancellationToken cancellationToken = default)
    {
        if (count < 1) throw new ArgumentException($"The number of continuations must be at least 1; got {count}.");
        Validate(model, prompt, options);

        // All rows have the same length, so one window position serves them all; rows that have stopped keep
        // being fed (their extra tokens are dropped) so the batch stays rectangular.
        var rows = Enumerable.Range(0, count).Select(_ => new List<int>(prompt)).ToArray();
        var stopped = new StopReason?[count];
        var wasTraining = model.training;
        model.eval();
        var device = model.parameters().First().device;
        using var generator = options.Seed is long seed ? new Generator((ulong)seed, device) : null;
        using var cache = options.UseCache ? model.NewCache() : null;
        try
        {
            using var _ = no_grad();
            var length = prompt.Count;
            var fed = 0;
            for (var step = 0; step < options.MaxNewTokens && stopped.Any(r => r == null); step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int start;
                if (cache == null) start = length - Math.Min(length, model.ContextLength);
                else
                {
                    if (cache.Length + (length - fed) > model.ContextLength)
                    {
                        cache.Clear();
                        fed = length - Math.Min(length, model.ContextLength);
                    }
                    start = fed;
                    fed = length;
                }
                var ids = new long[count * (length - start)];
                for (var r = 0; r < count; r++)
                    for (var i = start; i < length; i++) ids[r * (length - start) + i - start] = rows[r][i];
                var hidden = model.Hidden(tensor(ids, ScalarType.Int64, device).view(count, length - start), cache);
                var next = Sampler.Sample(model.Head(hidden[.., -1]), options.Sampling, generator).data<long>().ToArray();
                for (var r = 0; r < count; r++)
                {
                    rows[r].Add((int)next[r]);
                    if (stopped[r] == null && options.StopTokens.Contains((int)next[r])) stopped[r] = StopReason.StopToken;
                }
                length++;
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return rows.Select((row, r) =>
        {
            var reason = stopped[r] ?? StopReason.MaxNewTokens;
            var end = reason == StopReason.StopToken ? row.FindIndex(prompt.Count, options.StopTokens.Contains) + 1 : row.Count;
            return new GenerationResult(row.Take(end).ToList(), prompt.Count, reason);
        }).ToList();
    }

    static void Validate(CausalLanguageModel model, IReadOnlyList<int> prompt, GenerationOptions options)
    {
        if (prompt.Count == 0) throw new ArgumentException("The prompt must contain at least one token id (e.g. the BOS id).");
        foreach (var id in prompt)
            if (id < 0 || id >= model.VocabSize) throw new ArgumentException($"Prompt token id {id} is outside the model's vocabulary of {model.VocabSize}.");
        if (options.MaxNewTokens < 0) throw new ArgumentException($"max-new-tokens must be 0 or more; got {options.MaxNewTokens}.");
        options.Sampling.Validate();
    }

    static Tensor Window(List<int> tokens, int start, Device device)
    {
        var ids = new long[tokens.Count - start];
        for (var i = 0; i < ids.Length; i++) ids[i] = tokens[start + i];
        return tensor(ids, ScalarType.Int64, device).view(1, -1);
    }
}

using Farabi.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Training;

/// <summary>How well a model predicts a token sequence.</summary>
/// <param name="Tokens">Tokens scored (every token but the first, which has no context).</param>
/// <param name="MeanLoss">Mean negative log-likelihood per scored token, in nats.</param>
/// <param name="Bytes">UTF-8 bytes of the text (0 when unknown).</param>
public sealed record PerplexityResult(long Tokens, double MeanLoss, long Bytes)
{
    /// <summary><c>exp(mean loss)</c>.</summary>
    public double Perplexity => Math.Exp(MeanLoss);
    /// <summary>Bits per token: the loss in base 2.</summary>
    public double BitsPerToken => MeanLoss / Math.Log(2);
    /// <summary>
    /// Bits per byte, the tokenizer-independent measure: total bits over the text's bytes,
    /// <c>loss/ln 2 · tokens/bytes</c> (the scored tokens stand for all of them); NaN when the bytes are unknown.
    /// </summary>
    public double BitsPerByte => Bytes > 0 ? BitsPerToken * (Tokens + 1) / Bytes : double.NaN;
}

/// <summary>
/// Perplexity with a sliding window, as Hugging Face's perplexity guide describes: windows of the context length
/// advance by <c>stride</c> tokens, and each window scores only the tokens the previous one did not, so every token
/// is predicted once with at least <c>context − stride</c> tokens of history (stride = context gives disjoint
/// windows: fastest, least context).
/// </summary>
public static class Perplexity
{
    /// <summary>Scores <paramref name="tokens"/> with <paramref name="model"/> in eval mode; <paramref name="bytes"/> is the text's UTF-8 size.</summary>
    /// <exception cref="ArgumentException">Fewer than two tokens, or a stride outside [1, context].</exception>
    public static PerplexityResult Evaluate(CausalLanguageModel model, IReadOnlyList<long> tokens, long bytes, int? contextLength = null, int? stride = null, int batchSize = 8)
    {
        var t = contextLength ?? model.ContextLength;
        var s = stride ?? Math.Max(1, t / 2);
        if (tokens.Count < 2) throw new ArgumentException("Perplexity needs at least two tokens.");
        if (t <= 0 || t > model.ContextLength) throw new ArgumentException($"The evaluation context {t} must be in [1, {model.ContextLength}].");
        if (s <= 0 || s > t) throw new ArgumentException($"The stride {s} must be in [1, context {t}].");

        // Each window: inputs tokens[start .. start+len), targets shifted by one, of which the last `scored` count.
        var windows = new List<(int Start, int Length, int Scored)>();
        var predictable = tokens.Count - 1; // targets are tokens 1 .. N-1
        var scoredUpTo = 0;                  // targets 1 .. scoredUpTo are done
        for (var start = 0; scoredUpTo < predictable; start += s)
        {
            var length = Math.Min(t, predictable - start);
            var end = start + length; // last target index
            windows.Add((start, length, end - scoredUpTo));
            scoredUpTo = end;
        }

        var wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            double nll = 0;
            long count = 0;
            foreach (var group in windows.GroupBy(w => w.Length))
            {
                foreach (var chunk in group.Chunk(batchSize))
                {
                    using var scope = NewDisposeScope();
                    var length = group.Key;
                    var x = new long[chunk.Length * length];
                    var y = new long[chunk.Length * length];
                    var mask = new float[chunk.Length * length];
                    for (var b = 0; b < chunk.Length; b++)
                    {
                        var (start, _, scored) = chunk[b];
                        for (var i = 0; i < length; i++)
                        {
                            x[b * length + i] = tokens[start + i];
                            y[b * length + i] = tokens[start + i + 1];
                            mask[b * length + i] = i >= length - scored ? 1 : 0;
                        }
                    }
                    var logits = model.Forward(tensor(x, [chunk.Length, length]));
                    var losses = F.cross_entropy(logits.view(-1, logits.shape[^1]), tensor(y), reduction: nn.Reduction.None);
                    var m = tensor(mask);
                    nll += (losses * m).sum().to_type(ScalarType.Float64).item<double>();
                    count += (long)mask.Sum();
                }
            }
            return new PerplexityResult(count, nll / count, bytes);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}

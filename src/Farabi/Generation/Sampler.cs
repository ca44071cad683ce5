using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Generation;

/// <summary>How the next token is drawn from the model's logits.</summary>
public sealed record SamplingOptions
{
    /// <summary>Divides the logits; 0 means greedy (argmax, first index on ties). Default 1.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keeps only the <c>TopK</c> most likely tokens (Fan et al. 2018); 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>
    /// Nucleus sampling (Holtzman et al. 2020): keeps the smallest set of most likely tokens whose
    /// probabilities sum to at least <c>TopP</c>; 1 keeps all.
    /// </summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Throws <see cref="ArgumentException"/> for impossible settings.</summary>
    public SamplingOptions Validate()
    {
        if (double.IsNaN(Temperature) || Temperature < 0) throw new ArgumentException($"Temperature must be 0 (greedy) or positive; got {Temperature}.");
        if (TopK < 0) throw new ArgumentException($"top-k must be 0 (off) or positive; got {TopK}.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1]; got {TopP}.");
        return this;
    }
}

/// <summary>Turns logits into next tokens: temperature, top-k, top-p, then a draw from a seeded generator.</summary>
public static class Sampler
{
    /// <summary>
    /// The distribution the sampler draws from, <c>[B, V]</c>, for logits <c>[B, V]</c>: temperature-scaled,
    /// restricted to the top-k and then to the nucleus, renormalised. (Greedy decoding puts all mass on the argmax.)
    /// </summary>
    public static Tensor Probabilities(Tensor logits, SamplingOptions options)
    {
        options.Validate();
        using var scope = NewDisposeScope();
        if (options.Temperature == 0)
            return F.one_hot(logits.argmax(-1), logits.shape[^1]).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
        var scaled = logits.to_type(ScalarType.Float32) / options.Temperature;
        var vocab = scaled.shape[^1];
        if (options.TopK > 0 && options.TopK < vocab)
        {
            var (values, _) = scaled.topk(options.TopK, dim: -1);
            scaled = scaled.masked_fill(scaled < values.narrow(-1, options.TopK - 1, 1), double.NegativeInfinity);
        }
        if (options.TopP < 1)
        {
            var (sorted, order) = scaled.sort(-1, descending: true);
            var probs = sorted.softmax(-1);
            // Drop a token when the tokens before it already reach top_p; the most likely one always stays.
            var before = probs.cumsum(-1) - probs;
            var dropSorted = before >= options.TopP;
            var drop = dropSorted.scatter(-1, order, dropSorted);
            scaled = scaled.masked_fill(drop, double.NegativeInfinity);
        }
        return scaled.softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Draws one token per row of <paramref name="logits"/> <c>[B, V]</c>; returns int64 ids <c>[B]</c>.
    /// Greedy when the temperature is 0; otherwise the draw uses <paramref name="generator"/> (seeded for
    /// reproducible output) or torch's global generator.
    /// </summary>
    public static Tensor Sample(Tensor logits, SamplingOptions options, Generator? generator = null)
    {
        if (options.Validate().Temperature == 0) return logits.argmax(-1);
        using var probs = Probabilities(logits, options);
        using var drawn = probs.multinomial(1, generator: generator);
        return drawn.squeeze(-1);
    }
}

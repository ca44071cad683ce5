using static TorchSharp.torch;

namespace Farabi.Generation;

/// <summary>
/// Keys and values of every attention layer for the tokens a causal LM has already seen, so that each new
/// token costs one position of work instead of re-running the whole prefix. Storage for
/// <see cref="Capacity"/> positions is allocated on first use per layer and filled in place.
/// </summary>
/// <remarks>
/// Tensors are detached from dispose scopes (they live as long as the cache); dispose the cache when done.
/// A model reads <see cref="Length"/> before its layers run (the position of the first new token) and each
/// layer calls <see cref="Append"/>; the model calls <see cref="Advance"/> once all layers have appended.
/// </remarks>
public sealed class KeyValueCache : IDisposable
{
    readonly Tensor?[] keys;
    readonly Tensor?[] values;

    /// <summary>Creates an empty cache for <paramref name="layers"/> layers and up to <paramref name="capacity"/> positions.</summary>
    public KeyValueCache(int layers, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        keys = new Tensor?[layers];
        values = new Tensor?[layers];
        Capacity = capacity;
    }

    /// <summary>The number of positions stored (the position the next token will take).</summary>
    public int Length { get; private set; }

    /// <summary>The most positions the cache can hold.</summary>
    public int Capacity { get; }

    /// <summary>The number of layers.</summary>
    public int Layers => keys.Length;

    /// <summary>
    /// Stores <paramref name="k"/> and <paramref name="v"/> (<c>[B, H, T, D]</c>) of layer <paramref name="layer"/>
    /// at positions <c>Length .. Length+T-1</c> and returns views of all keys and values so far,
    /// <c>[B, H, Length+T, D]</c>.
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        var t = k.shape[2];
        if (Length + t > Capacity)
            throw new InvalidOperationException($"The key-value cache holds {Capacity} positions; {Length} are used and {t} more were given.");
        keys[layer] ??= Allocate(k);
        values[layer] ??= Allocate(v);
        using (no_grad())
        {
            keys[layer]!.narrow(2, Length, t).copy_(k);
            values[layer]!.narrow(2, Length, t).copy_(v);
        }
        return (keys[layer]!.narrow(2, 0, Length + t), values[layer]!.narrow(2, 0, Length + t));
    }

    Tensor Allocate(Tensor like) =>
        zeros([like.shape[0], like.shape[1], Capacity, like.shape[3]], like.dtype, like.device).DetachFromDisposeScope();

    /// <summary>
    /// Turns a cache filled for a batch of one row into one of <paramref name="batch"/> identical rows, so a
    /// prompt shared by many samples is run through the model once instead of once per sample (the rows
    /// then diverge as each appends its own tokens).
    /// </summary>
    /// <exception cref="InvalidOperationException">The cache holds more than one row or is empty.</exception>
    public void ExpandBatch(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        for (var i = 0; i < keys.Length; i++)
        {
            if (keys[i] is not { } k || values[i] is not { } v) throw new InvalidOperationException("Only a filled cache can be expanded: layer " + i + " holds nothing yet.");
            if (k.shape[0] != 1) throw new InvalidOperationException($"Only a cache of one row can be expanded; this one has {k.shape[0]}.");
            // Copies, not expanded views: each row is written in place by the tokens that follow.
            keys[i] = k.expand(batch, k.shape[1], k.shape[2], k.shape[3]).contiguous().DetachFromDisposeScope();
            values[i] = v.expand(batch, v.shape[1], v.shape[2], v.shape[3]).contiguous().DetachFromDisposeScope();
            k.Dispose();
            v.Dispose();
        }
    }

    /// <summary>Marks <paramref name="positions"/> more positions as stored (called by the model after its layers ran).</summary>
    public void Advance(int positions) => Length += positions;

    /// <summary>Forgets every position (storage is kept for reuse).</summary>
    public void Clear() => Length = 0;

    /// <summary>Frees the storage.</summary>
    public void Dispose()
    {
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i]?.Dispose(); keys[i] = null;
            values[i]?.Dispose(); values[i] = null;
        }
    }
}

using static TorchSharp.torch;

namespace Farabi.Data;

/// <summary>
/// Draws training batches as nanoGPT's <c>get_batch</c> does: <c>B</c> windows at uniformly random starts of a
/// token file, inputs <c>x = tokens[i .. i+T)</c> and targets <c>y = tokens[i+1 .. i+T+1)</c>. The starts come
/// from a <see cref="SeededRandom"/> whose state is the data position of a checkpoint: restoring it makes a
/// resumed run see the very same batches.
/// </summary>
public sealed class RandomWindowSampler
{
    readonly TokenFile data;
    readonly SeededRandom random;

    /// <summary>Samples windows of <paramref name="contextLength"/> tokens from <paramref name="data"/>, seeded by <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">The file is shorter than one window plus its shifted target.</exception>
    public RandomWindowSampler(TokenFile data, int contextLength, ulong seed)
    {
        if (contextLength <= 0) throw new ArgumentException("The context length must be positive.");
        if (data.Count < contextLength + 1)
            throw new ArgumentException($"Token file '{data.Path}' has {data.Count} tokens; a window of context {contextLength} needs at least {contextLength + 1}.");
        this.data = data;
        ContextLength = contextLength;
        random = new SeededRandom(seed);
    }

    /// <summary>Tokens per window (T).</summary>
    public int ContextLength { get; }

    /// <summary>Number of windows drawn so far (restored with the state).</summary>
    public long WindowsDrawn { get; private set; }

    /// <summary>The generator state; set it to continue an earlier run exactly.</summary>
    public ulong[] State
    {
        get => random.State;
        set => random.State = value;
    }

    /// <summary>Restores the generator state and the window count of an earlier run.</summary>
    public void Restore(ulong[] state, long windowsDrawn)
    {
        random.State = state;
        WindowsDrawn = windowsDrawn;
    }

    /// <summary>
    /// The next batch: <c>x</c> and <c>y</c>, both int64 <c>[batchSize, T]</c>. Starts are drawn one window at a
    /// time, so two batches of B see the same windows as one batch of 2B (gradient accumulation equals a larger batch).
    /// </summary>
    public (Tensor X, Tensor Y) NextBatch(int batchSize)
    {
        var t = ContextLength;
        var buffer = new long[batchSize * (t + 1)];
        var x = new long[batchSize * t];
        var y = new long[batchSize * t];
        for (var b = 0; b < batchSize; b++)
        {
            var start = random.NextLong(data.Count - t);
            var window = buffer.AsSpan(b * (t + 1), t + 1);
            data.Read(start, window);
            window[..t].CopyTo(x.AsSpan(b * t, t));
            window[1..].CopyTo(y.AsSpan(b * t, t));
        }
        WindowsDrawn += batchSize;
        return (tensor(x, [batchSize, t]), tensor(y, [batchSize, t]));
    }
}

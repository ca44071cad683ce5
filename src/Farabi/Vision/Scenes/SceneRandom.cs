namespace Farabi.Vision.Scenes;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a tiny generator whose output is fixed by its seed on every
/// platform and .NET version, unlike <see cref="Random"/>, so a scene index always draws the same scene.
/// </summary>
internal sealed class SceneRandom(ulong seed)
{
    ulong _state = seed;

    /// <summary>A generator for one (seed, stream, index) triple, independent of every other index.</summary>
    public static SceneRandom For(long seed, ulong stream, long index)
    {
        var mixer = new SceneRandom((ulong)seed ^ (stream * 0xD1B54A32D192ED03UL));
        var s = mixer.NextUInt64() ^ ((ulong)index * 0x9E3779B97F4A7C15UL);
        return new SceneRandom(new SceneRandom(s).NextUInt64());
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n).</summary>
    public int Next(int n) => (int)((NextUInt64() >> 33) % (ulong)n);

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniformly chosen element.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];
}

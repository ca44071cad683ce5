namespace Farabi.Data;

/// <summary>
/// xoshiro256** (Blackman and Vigna 2018): a small, fast generator whose whole state is four 64-bit words, so a
/// training checkpoint can store it and a resumed run draws exactly the batches the uninterrupted run would have.
/// (<see cref="Random"/> cannot export its state.)
/// </summary>
public sealed class SeededRandom
{
    readonly ulong[] s = new ulong[4];

    /// <summary>A generator seeded from <paramref name="seed"/> through SplitMix64, as the authors recommend.</summary>
    public SeededRandom(ulong seed)
    {
        var x = seed;
        for (var i = 0; i < 4; i++)
        {
            x += 0x9E3779B97F4A7C15UL;
            var z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            s[i] = z ^ (z >> 31);
        }
    }

    /// <summary>The state: four words, restorable with <see cref="State"/>'s setter.</summary>
    public ulong[] State
    {
        get => (ulong[])s.Clone();
        set
        {
            if (value.Length != 4 || value.All(v => v == 0)) throw new ArgumentException("A xoshiro256** state is four words, not all zero.");
            value.CopyTo(s, 0);
        }
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(s[1] * 5, 7) * 9;
        var t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = ulong.RotateLeft(s[3], 45);
        return result;
    }

    /// <summary>A uniform integer in <c>[0, n)</c>, without modulo bias (rejection of the short last cycle).</summary>
    public long NextLong(long n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), "The range must be positive.");
        var un = (ulong)n;
        var limit = ulong.MaxValue - ulong.MaxValue % un;
        ulong x;
        do x = NextUInt64(); while (x >= limit);
        return (long)(x % un);
    }
}

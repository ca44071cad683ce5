using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// The vocabulary as an open-addressing hash table keyed by byte strings, stored in one arena so a
/// lookup hashes a slice of the caller's buffer and compares bytes in place: no <c>byte[]</c> key
/// is made per lookup, as a <c>Dictionary&lt;byte[], int&gt;</c> would need.
/// </summary>
sealed class ByteSpanMap
{
    readonly byte[] _arena;
    readonly int[] _offset; // entry e's bytes are _arena[_offset[e] .. _offset[e + 1])
    readonly int[] _slots;  // entry index + 1; 0 is empty
    readonly uint[] _slotHash;
    readonly int _mask;

    /// <summary>The token id of each entry.</summary>
    public readonly int[] Id;

    /// <summary>The merge rank of each entry: lower merges first; <see cref="int.MaxValue"/> when it is never formed by a merge.</summary>
    public readonly int[] Rank;

    public int Count => Id.Length;

    public ByteSpanMap(IReadOnlyList<(byte[] Bytes, int Id, int Rank)> entries)
    {
        var total = 0;
        foreach (var e in entries) total += e.Bytes.Length;
        _arena = new byte[total];
        _offset = new int[entries.Count + 1];
        Id = new int[entries.Count];
        Rank = new int[entries.Count];
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, entries.Count * 2));
        _slots = new int[size];
        _slotHash = new uint[size];
        _mask = size - 1;
        var pos = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var (bytes, id, rank) = entries[i];
            _offset[i] = pos;
            bytes.CopyTo(_arena, pos);
            pos += bytes.Length;
            Id[i] = id;
            Rank[i] = rank;
        }
        _offset[entries.Count] = pos;
        for (var i = 0; i < entries.Count; i++)
        {
            var key = Key(i);
            var h = Hash(key);
            if (Find(key, h) >= 0) throw new InvalidDataException($"the token {Convert.ToHexString(key)} appears twice in the vocabulary.");
            var slot = (int)h & _mask;
            while (_slots[slot] != 0) slot = (slot + 1) & _mask;
            _slots[slot] = i + 1;
            _slotHash[slot] = h;
        }
    }

    public ReadOnlySpan<byte> Key(int entry) => _arena.AsSpan(_offset[entry], _offset[entry + 1] - _offset[entry]);

    /// <summary>The entry whose bytes equal <paramref name="key"/> (with <paramref name="hash"/> = <see cref="Hash"/> of it), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ReadOnlySpan<byte> key, uint hash)
    {
        var slot = (int)hash & _mask;
        while (true)
        {
            var e = _slots[slot] - 1;
            if (e < 0) return -1;
            if (_slotHash[slot] == hash)
            {
                var off = _offset[e];
                if (_offset[e + 1] - off == key.Length && key.SequenceEqual(_arena.AsSpan(off, key.Length))) return e;
            }
            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>A fast 32-bit hash of a short byte string (word-at-a-time, with a final avalanche).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(ReadOnlySpan<byte> key)
    {
        ref var p = ref MemoryMarshal.GetReference(key);
        var len = key.Length;
        var h = (ulong)len * 0x9E3779B97F4A7C15UL;
        var i = 0;
        for (; i + 8 <= len; i += 8)
        {
            h = (h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i))) * 0xBF58476D1CE4E5B9UL;
            h ^= h >> 29;
        }
        var rest = len - i;
        ulong tail;
        if (rest >= 4)
            tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)) | ((ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, len - 4)) << 32);
        else if (rest > 0)
            tail = Unsafe.Add(ref p, i) | ((ulong)Unsafe.Add(ref p, i + (rest >> 1)) << 8) | ((ulong)Unsafe.Add(ref p, len - 1) << 16);
        else
            tail = 0;
        h = (h ^ tail) * 0x94D049BB133111EBUL;
        h ^= h >> 32;
        h *= 0xD6E8FEB86659FD93UL;
        return (uint)(h >> 32);
    }
}

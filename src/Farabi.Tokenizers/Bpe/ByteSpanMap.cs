using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// The vocabulary as an open-addressing hash table keyed by byte strings. Each slot holds the key's
/// first 8 bytes, its length, id and merge rank, so a lookup of a token of up to 8 bytes (most of
/// them) touches one slot and nothing else; longer keys compare their tail in a shared arena. A
/// lookup hashes a slice of the caller's buffer: no <c>byte[]</c> key is made, as a
/// <c>Dictionary&lt;byte[], int&gt;</c> would need.
/// </summary>
sealed class ByteSpanMap
{
    // 16 bytes, so four slots share a cache line: a whole-piece hit (the common case) reads one line.
    [StructLayout(LayoutKind.Sequential)]
    struct Slot
    {
        public ulong Head;   // the first 8 bytes, zero-padded
        public int Length;   // 0 marks an empty slot
        public int Id;
    }

    // What only merging and long keys need, kept apart so it does not dilute the hot array.
    struct Cold
    {
        public int Rank;
        public int Entry;    // index into the entry arrays (for the arena and enumeration)
    }

    readonly Slot[] _slots;
    readonly Cold[] _cold;
    readonly uint _size;
    readonly byte[] _arena;
    readonly int[] _offset; // entry e's bytes are _arena[_offset[e] .. _offset[e + 1])
    readonly int[] _entryId;
    readonly int[] _entryRank;

    public int Count => _entryId.Length;

    public ByteSpanMap(IReadOnlyList<(byte[] Bytes, int Id, int Rank)> entries)
    {
        var total = 0;
        foreach (var e in entries) total += e.Bytes.Length;
        _arena = new byte[total];
        _offset = new int[entries.Count + 1];
        _entryId = new int[entries.Count];
        _entryRank = new int[entries.Count];
        // Load factor 2/3: short probe runs, and a table small enough to stay mostly in cache.
        // Any size works because the slot is taken by multiply-shift, not by masking.
        _size = (uint)Math.Max(16, entries.Count * 3 / 2);
        _slots = new Slot[_size];
        _cold = new Cold[_size];
        var pos = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var (bytes, id, rank) = entries[i];
            _offset[i] = pos;
            bytes.CopyTo(_arena, pos);
            pos += bytes.Length;
            _entryId[i] = id;
            _entryRank[i] = rank;
        }
        _offset[entries.Count] = pos;
        for (var i = 0; i < entries.Count; i++)
        {
            var key = Key(i);
            if (key.Length == 0) throw new InvalidDataException($"token id {_entryId[i]} has no bytes.");
            if (Find(key) >= 0) throw new InvalidDataException($"the token {Convert.ToHexString(key)} appears twice in the vocabulary.");
            var slot = SlotOf(Hash(key));
            while (_slots[slot].Length != 0) slot = slot + 1 == _size ? 0 : slot + 1;
            _slots[slot] = new Slot { Head = Head(key), Length = key.Length, Id = _entryId[i] };
            _cold[slot] = new Cold { Rank = _entryRank[i], Entry = i };
        }
    }

    public ReadOnlySpan<byte> Key(int entry) => _arena.AsSpan(_offset[entry], _offset[entry + 1] - _offset[entry]);
    public int EntryId(int entry) => _entryId[entry];
    public int EntryRank(int entry) => _entryRank[entry];

    /// <summary>The slot holding <paramref name="key"/>, or -1; read its id and rank with <see cref="IdAt"/> and <see cref="RankAt"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ReadOnlySpan<byte> key)
    {
        var head = Head(key);
        var len = key.Length;
        var slot = SlotOf(HashOf(head, key));
        ref var slots = ref MemoryMarshal.GetArrayDataReference(_slots);
        while (true)
        {
            ref var s = ref Unsafe.Add(ref slots, slot);
            if (s.Length == 0) return -1;
            if (s.Head == head && s.Length == len && (len <= 8 || TailEquals(_cold[slot].Entry, key))) return (int)slot;
            slot = slot + 1 == _size ? 0 : slot + 1;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    uint SlotOf(uint hash) => (uint)(((ulong)hash * _size) >> 32);

    bool TailEquals(int entry, ReadOnlySpan<byte> key) => key[8..].SequenceEqual(_arena.AsSpan(_offset[entry] + 8, key.Length - 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IdAt(int slot) => _slots[slot].Id;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int RankAt(int slot) => _cold[slot].Rank;

    /// <summary>The first 8 bytes of <paramref name="key"/> as a little-endian number, zero-padded; never reads past the span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Head(ReadOnlySpan<byte> key)
    {
        ref var p = ref MemoryMarshal.GetReference(key);
        var len = key.Length;
        if (len >= 8) return Unsafe.ReadUnaligned<ulong>(ref p);
        if (len >= 4)
            return Unsafe.ReadUnaligned<uint>(ref p) | ((ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, len - 4)) << ((len - 4) * 8));
        if (len >= 2)
            return Unsafe.ReadUnaligned<ushort>(ref p) | ((ulong)Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, len - 2)) << ((len - 2) * 8));
        return len == 1 ? p : 0UL;
    }

    /// <summary>A 32-bit hash of a byte string (used by the per-thread piece cache too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(ReadOnlySpan<byte> key) => HashOf(Head(key), key);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint HashOf(ulong head, ReadOnlySpan<byte> key)
    {
        var h = (head ^ ((ulong)key.Length << 59)) * 0x9E3779B97F4A7C15UL;
        if (key.Length > 8) h = LongTail(h, key);
        return (uint)(h >> 32) ^ (uint)h;
    }

    static ulong LongTail(ulong h, ReadOnlySpan<byte> key)
    {
        ref var p = ref MemoryMarshal.GetReference(key);
        var len = key.Length;
        var i = 8;
        for (; i + 8 <= len; i += 8)
        {
            h = (h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i))) * 0xBF58476D1CE4E5B9UL;
            h ^= h >> 29;
        }
        if (i < len) h = (h ^ Head(key[i..])) * 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }
}

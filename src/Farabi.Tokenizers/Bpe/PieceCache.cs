using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// A per-thread cache of pieces that needed merging (piece bytes → ids). Words repeat, so most
/// pieces that are not whole vocabulary entries are met again; this turns their merge loop into one
/// hash probe. Fixed-size arrays, emptied when full, so a long run never allocates.
/// </summary>
sealed class PieceCache
{
    public const int MaxKeyLength = 64;
    const int Slots = 1 << 17;              // twice the entries, so probes stay short; ~6 MB per thread in all
    const int MaxEntries = Slots / 2;
    const int KeyArenaSize = MaxEntries * 16;
    const int IdArenaSize = MaxEntries * 8;

    struct Slot
    {
        public ulong Head;     // first 8 bytes of the key, as ByteSpanMap.Head
        public int Length;     // 0 marks an empty slot (cached pieces have at least 2 bytes)
        public int KeyOffset;
        public int IdOffset;
        public int IdCount;
    }

    readonly Slot[] _slots = new Slot[Slots];
    readonly byte[] _keys = new byte[KeyArenaSize];
    readonly int[] _ids = new int[IdArenaSize];
    int _entries, _keyUsed, _idUsed;

    /// <summary>The cached ids of <paramref name="key"/>, or an empty span when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<int> Get(ReadOnlySpan<byte> key, uint hash)
    {
        var head = ByteSpanMap.Head(key);
        var index = (int)hash & (Slots - 1);
        ref var slots = ref MemoryMarshal.GetArrayDataReference(_slots);
        while (true)
        {
            ref var s = ref Unsafe.Add(ref slots, index);
            if (s.Length == 0) return default;
            if (s.Head == head && s.Length == key.Length
                && (key.Length <= 8 || key[8..].SequenceEqual(_keys.AsSpan(s.KeyOffset + 8, key.Length - 8))))
                return _ids.AsSpan(s.IdOffset, s.IdCount);
            index = (index + 1) & (Slots - 1);
        }
    }

    public void Add(ReadOnlySpan<byte> key, uint hash, ReadOnlySpan<int> ids)
    {
        if (key.Length > MaxKeyLength || key.Length < 2) return;
        if (_entries >= MaxEntries || _keyUsed + key.Length > KeyArenaSize || _idUsed + ids.Length > IdArenaSize) Clear();
        var index = (int)hash & (Slots - 1);
        while (_slots[index].Length != 0) index = (index + 1) & (Slots - 1);
        _slots[index] = new Slot { Head = ByteSpanMap.Head(key), Length = key.Length, KeyOffset = _keyUsed, IdOffset = _idUsed, IdCount = ids.Length };
        key.CopyTo(_keys.AsSpan(_keyUsed));
        ids.CopyTo(_ids.AsSpan(_idUsed));
        _keyUsed += key.Length;
        _idUsed += ids.Length;
        _entries++;
    }

    void Clear()
    {
        Array.Clear(_slots);
        _entries = _keyUsed = _idUsed = 0;
    }
}

using System.Runtime.CompilerServices;

namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// A per-thread cache of pieces that needed merging (piece bytes → ids). Words repeat, so most
/// pieces that are not whole vocabulary entries are met again; this turns their merge loop into one
/// hash probe. Fixed-size arrays, emptied when full, so a long run never allocates.
/// </summary>
sealed class PieceCache
{
    public const int MaxKeyLength = 64;
    const int Slots = 1 << 16;              // twice the entries, so probes stay short
    const int MaxEntries = Slots / 2;
    const int KeyArenaSize = MaxEntries * 16;
    const int IdArenaSize = MaxEntries * 6;

    readonly uint[] _hash = new uint[Slots];
    readonly int[] _keyLength = new int[Slots]; // 0 marks an empty slot (cached pieces have at least 2 bytes)
    readonly int[] _keyOffset = new int[Slots];
    readonly int[] _idOffset = new int[Slots];
    readonly int[] _idCount = new int[Slots];
    readonly byte[] _keys = new byte[KeyArenaSize];
    readonly int[] _ids = new int[IdArenaSize];
    int _entries, _keyUsed, _idUsed;

    /// <summary>The cached ids of <paramref name="key"/>, or an empty span when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<int> Get(ReadOnlySpan<byte> key, uint hash)
    {
        var slot = (int)hash & (Slots - 1);
        while (true)
        {
            var len = _keyLength[slot];
            if (len == 0) return default;
            if (_hash[slot] == hash && len == key.Length && key.SequenceEqual(_keys.AsSpan(_keyOffset[slot], len)))
                return _ids.AsSpan(_idOffset[slot], _idCount[slot]);
            slot = (slot + 1) & (Slots - 1);
        }
    }

    public void Add(ReadOnlySpan<byte> key, uint hash, ReadOnlySpan<int> ids)
    {
        if (key.Length > MaxKeyLength || key.Length < 2) return;
        if (_entries >= MaxEntries || _keyUsed + key.Length > KeyArenaSize || _idUsed + ids.Length > IdArenaSize) Clear();
        var slot = (int)hash & (Slots - 1);
        while (_keyLength[slot] != 0) slot = (slot + 1) & (Slots - 1);
        _hash[slot] = hash;
        _keyLength[slot] = key.Length;
        _keyOffset[slot] = _keyUsed;
        _idOffset[slot] = _idUsed;
        _idCount[slot] = ids.Length;
        key.CopyTo(_keys.AsSpan(_keyUsed));
        ids.CopyTo(_ids.AsSpan(_idUsed));
        _keyUsed += key.Length;
        _idUsed += ids.Length;
        _entries++;
    }

    void Clear()
    {
        Array.Clear(_keyLength);
        _entries = _keyUsed = _idUsed = 0;
    }
}

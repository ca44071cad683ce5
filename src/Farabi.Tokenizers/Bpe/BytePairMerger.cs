namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// Merges the bytes of one piece as tiktoken does: repeatedly join the adjacent pair whose joined
/// bytes have the lowest merge rank (the leftmost such pair on a tie) until no pair is in the
/// vocabulary. Short pieces use tiktoken's array scan (cache-friendly); long ones a linked list and
/// a binary heap, so a pathological piece (a megabyte of one letter) costs n log n, not n².
/// One instance per thread: it owns reusable scratch arrays.
/// </summary>
sealed class BytePairMerger
{
    const int ScanLimit = 96;

    int[] _start = new int[ScanLimit + 2];
    int[] _id = new int[ScanLimit + 2];
    int[] _pairRank = new int[ScanLimit + 2];
    int[] _pairId = new int[ScanLimit + 2];

    // Heap path: parts are identified by their first byte's position.
    int[] _next = [], _prev = [], _hid = [], _hPairRank = [], _hPairId = [];
    long[] _heap = [];

    /// <summary>Writes the ids of <paramref name="bytes"/> (at least 2 bytes) to <paramref name="ids"/> and returns how many.</summary>
    public int Merge(ByteSpanMap map, int[] byteIds, ReadOnlySpan<byte> bytes, Span<int> ids)
    {
        _rankLimit = int.MaxValue;
        return bytes.Length <= ScanLimit ? MergeByScan(map, byteIds, bytes, ids) : MergeByHeap(map, byteIds, bytes, ids);
    }

    /// <summary>As <see cref="Merge"/>, using only merges of rank below <paramref name="rankLimit"/> (recovers the pair a token was merged from).</summary>
    public int MergeBelow(ByteSpanMap map, int[] byteIds, ReadOnlySpan<byte> bytes, Span<int> ids, int rankLimit)
    {
        _rankLimit = rankLimit;
        return bytes.Length <= ScanLimit ? MergeByScan(map, byteIds, bytes, ids) : MergeByHeap(map, byteIds, bytes, ids);
    }

    int _rankLimit = int.MaxValue;

    int MergeByScan(ByteSpanMap map, int[] byteIds, ReadOnlySpan<byte> bytes, Span<int> ids)
    {
        var n = bytes.Length;
        var start = _start;
        var id = _id;
        var pairRank = _pairRank;
        var pairId = _pairId;
        for (var i = 0; i < n; i++) { start[i] = i; id[i] = byteIds[bytes[i]]; }
        start[n] = n;
        var parts = n;
        for (var i = 0; i + 1 < parts; i++) Pair(map, bytes, start[i], start[i + 2], out pairRank[i], out pairId[i]);
        while (parts > 1)
        {
            var best = int.MaxValue;
            var at = -1;
            for (var i = 0; i + 1 < parts; i++)
                if (pairRank[i] < best) { best = pairRank[i]; at = i; }
            if (at < 0) break;
            id[at] = pairId[at];
            // Remove part at + 1 by shifting the tail left.
            var tail = parts - at - 2;
            if (tail > 0)
            {
                Array.Copy(id, at + 2, id, at + 1, tail);
                Array.Copy(pairRank, at + 2, pairRank, at + 1, tail - 1 > 0 ? tail - 1 : 0);
                Array.Copy(pairId, at + 2, pairId, at + 1, tail - 1 > 0 ? tail - 1 : 0);
            }
            Array.Copy(start, at + 2, start, at + 1, parts - at - 1);
            parts--;
            if (at + 1 < parts) Pair(map, bytes, start[at], start[at + 2], out pairRank[at], out pairId[at]);
            if (at > 0) Pair(map, bytes, start[at - 1], start[at + 1], out pairRank[at - 1], out pairId[at - 1]);
        }
        id.AsSpan(0, parts).CopyTo(ids);
        return parts;
    }

    void Pair(ByteSpanMap map, ReadOnlySpan<byte> bytes, int from, int to, out int rank, out int id)
    {
        var slot = map.Find(bytes[from..to]);
        if (slot < 0 || map.RankAt(slot) >= _rankLimit) { rank = int.MaxValue; id = -1; }
        else { rank = map.RankAt(slot); id = map.IdAt(slot); }
    }

    int MergeByHeap(ByteSpanMap map, int[] byteIds, ReadOnlySpan<byte> bytes, Span<int> ids)
    {
        var n = bytes.Length;
        if (_next.Length < n + 1)
        {
            var size = Math.Max(n + 1, _next.Length * 2);
            _next = new int[size]; _prev = new int[size]; _hid = new int[size];
            _hPairRank = new int[size]; _hPairId = new int[size]; _heap = new long[size * 2];
        }
        var next = _next; var prev = _prev; var id = _hid; var pairRank = _hPairRank; var pairId = _hPairId;
        var heapCount = 0;
        for (var i = 0; i < n; i++) { next[i] = i + 1; prev[i] = i - 1; id[i] = byteIds[bytes[i]]; }
        for (var i = 0; i + 1 < n; i++)
        {
            Pair(map, bytes, i, i + 2, out pairRank[i], out pairId[i]);
            if (pairRank[i] != int.MaxValue) Push(ref heapCount, Key(pairRank[i], i));
        }
        pairRank[n - 1] = int.MaxValue;
        while (heapCount > 0)
        {
            var top = Pop(ref heapCount);
            var rank = (int)(top >> 32);
            var p = (int)(top & 0xFFFFFFFF);
            // Stale entries: the part was absorbed (next[p] == -1) or its pair changed since.
            if (next[p] < 0 || pairRank[p] != rank) continue;
            var q = next[p];
            id[p] = pairId[p];
            next[p] = next[q];
            next[q] = -1;
            if (next[p] < n) prev[next[p]] = p;
            if (next[p] < n) Repair(map, bytes, p, ref heapCount);
            else pairRank[p] = int.MaxValue;
            if (prev[p] >= 0) Repair(map, bytes, prev[p], ref heapCount);
        }
        var count = 0;
        for (var p = 0; p < n; p = next[p]) ids[count++] = id[p];
        return count;
    }

    void Repair(ByteSpanMap map, ReadOnlySpan<byte> bytes, int p, ref int heapCount)
    {
        var q = _next[p];
        var end = q < bytes.Length ? _next[q] : bytes.Length;
        if (q >= bytes.Length) { _hPairRank[p] = int.MaxValue; return; }
        Pair(map, bytes, p, end, out _hPairRank[p], out _hPairId[p]);
        if (_hPairRank[p] != int.MaxValue) Push(ref heapCount, Key(_hPairRank[p], p));
    }

    // Heap keys order by rank, then by position, which makes ties go to the leftmost pair.
    static long Key(int rank, int position) => ((long)rank << 32) | (uint)position;

    void Push(ref int count, long key)
    {
        if (count == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        var h = _heap;
        var i = count++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (h[parent] <= key) break;
            h[i] = h[parent];
            i = parent;
        }
        h[i] = key;
    }

    long Pop(ref int count)
    {
        var h = _heap;
        var top = h[0];
        var last = h[--count];
        var i = 0;
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= count) break;
            if (child + 1 < count && h[child + 1] < h[child]) child++;
            if (h[child] >= last) break;
            h[i] = h[child];
            i = child;
        }
        h[i] = last;
        return top;
    }
}

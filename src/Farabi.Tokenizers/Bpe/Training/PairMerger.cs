using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Farabi.Tokenizers.Bpe.Training;

/// <summary>
/// Stage 2 of <see cref="BpeTrainer"/>: the merge loop over distinct words. Words live in one flat
/// array of symbol ids (each word shrinks in place as its pairs merge). Every pair has a count
/// (summed over the words it occurs in, weighted by word frequency) and the list of words that
/// held it when it appeared; lists are never pruned, so a word in a list may no longer hold the
/// pair, which the merge scan simply finds out.
/// </summary>
internal sealed class PairMerger
{
    /// <summary>Token id → bytes: ids 0..255 are single bytes in GPT-2's order, then one token per merge.</summary>
    public readonly List<byte[]> TokenBytes = new();

    /// <summary>The merges learned, in order, as (left id, right id); merge k created token 256 + k.</summary>
    public readonly List<(int Left, int Right)> Merges = new();

    /// <summary>Distinct words counted (including the single-byte ones, which have no pairs).</summary>
    public int WordCount { get; }

    // Words: symbols[wordStart[w] .. wordStart[w] + wordLength[w]), seen wordFrequency[w] times.
    readonly int[] symbols;
    readonly int[] wordStart;
    readonly int[] wordLength;
    readonly long[] wordFrequency;

    // Pairs, by dense id; pairIndex maps (left << 32 | right) to the id.
    readonly Dictionary<long, int> pairIndex = new();
    long[] pairCount = new long[1024];
    int[] pairLeft = new int[1024];
    int[] pairRight = new int[1024];
    int[]?[] pairWords = new int[1024][];
    int[] pairWordCount = new int[1024];
    int pairTotal;

    // Max-heap of (count, pair id) with lazy deletion: an entry's count is an upper bound of the pair's count.
    long[] heapCount = new long[1024];
    int[] heapPair = new int[1024];
    int heapSize;

    readonly List<int> createdPairs = new();

    public PairMerger(Dictionary<string, long> wordCounts)
    {
        WordCount = wordCounts.Count;
        var byteToId = new int[256];
        for (var id = 0; id < 256; id++)
        {
            var b = ByteLevel.Gpt2ByteOrder[id];
            TokenBytes.Add([b]);
            byteToId[b] = id;
        }

        // Ordinal order makes word ids (and hence everything after) independent of how counting was scheduled.
        var words = wordCounts.Keys.Where(w => w.Length > 1 || Encoding.UTF8.GetByteCount(w) > 1).ToArray();
        Array.Sort(words, StringComparer.Ordinal);
        long totalBytes = 0;
        foreach (var w in words) totalBytes += Encoding.UTF8.GetByteCount(w);
        symbols = new int[checked((int)totalBytes)];
        wordStart = new int[words.Length];
        wordLength = new int[words.Length];
        wordFrequency = new long[words.Length];
        var buffer = new byte[256];
        var at = 0;
        for (var w = 0; w < words.Length; w++)
        {
            var count = Encoding.UTF8.GetByteCount(words[w]);
            if (count > buffer.Length) buffer = new byte[count * 2];
            Encoding.UTF8.GetBytes(words[w], buffer);
            wordStart[w] = at;
            wordLength[w] = count;
            wordFrequency[w] = wordCounts[words[w]];
            for (var i = 0; i < count; i++) symbols[at + i] = byteToId[buffer[i]];
            at += count;
        }

        for (var w = 0; w < words.Length; w++)
        {
            var s = wordStart[w];
            var end = s + wordLength[w];
            for (var i = s; i + 1 < end; i++) AddToPair(symbols[i], symbols[i + 1], wordFrequency[w], w);
        }
        for (var p = 0; p < pairTotal; p++) HeapPush(pairCount[p], p);
        createdPairs.Clear();
    }

    /// <summary>Learns up to <paramref name="maxMerges"/> merges, stopping early when the best pair is seen fewer than <paramref name="minFrequency"/> times.</summary>
    public void Run(int maxMerges, int minFrequency, Action<BpeTrainingProgress>? progress, CancellationToken cancellation)
    {
        for (var m = 0; m < maxMerges; m++)
        {
            var best = PopBest();
            if (best < 0 || pairCount[best] < minFrequency) break;
            Merge(best);
            if ((m & 255) == 0)
            {
                cancellation.ThrowIfCancellationRequested();
                progress?.Invoke(new BpeTrainingProgress(BpeTrainingStage.Merging, m + 1, maxMerges));
            }
        }
        progress?.Invoke(new BpeTrainingProgress(BpeTrainingStage.Merging, Merges.Count, maxMerges));
    }

    /// <summary>The pair with the highest count (ties: greater bytes), or -1 when no pair is left.</summary>
    int PopBest()
    {
        while (heapSize > 0)
        {
            var count = heapCount[0];
            var pair = heapPair[0];
            HeapPop();
            var actual = pairCount[pair];
            if (actual == count) return pair;
            // Stale: the count fell since the entry was pushed. Put it back at its true count.
            if (actual > 0) HeapPush(actual, pair);
        }
        return -1;
    }

    void Merge(int pair)
    {
        var a = pairLeft[pair];
        var b = pairRight[pair];
        var z = TokenBytes.Count;
        TokenBytes.Add([.. TokenBytes[a], .. TokenBytes[b]]);
        Merges.Add((a, b));

        var words = pairWords[pair]!;
        var wordsWithPair = pairWordCount[pair];
        var sym = symbols;
        for (var k = 0; k < wordsWithPair; k++)
        {
            var w = words[k];
            var s = wordStart[w];
            var end = s + wordLength[w];
            var f = wordFrequency[w];
            int i = s, j = s, previous = -1; // previous: the original symbol just before i
            while (i < end)
            {
                if (sym[i] == a && i + 1 < end && sym[i + 1] == b)
                {
                    if (j > s)
                    {
                        // (previous, a) becomes (left, z); left is z itself when the last occurrence ended at i.
                        RemoveFromPair(previous, a, f);
                        AddToPair(sym[j - 1], z, f, w);
                    }
                    if (i + 2 < end)
                    {
                        var right = sym[i + 2];
                        // When the next occurrence starts right here, its left-neighbour update covers (b, a).
                        if (!(right == a && i + 3 < end && sym[i + 3] == b))
                        {
                            RemoveFromPair(b, right, f);
                            AddToPair(z, right, f, w);
                        }
                    }
                    sym[j++] = z;
                    previous = b;
                    i += 2;
                }
                else
                {
                    previous = sym[i];
                    sym[j++] = previous;
                    i++;
                }
            }
            wordLength[w] = j - s;
        }

        pairCount[pair] = 0;
        pairWords[pair] = null;
        pairIndex.Remove(Key(a, b));
        // Only pairs that contain z gained counts, and they are new: push each once, at its final count.
        foreach (var p in createdPairs)
        {
            if (pairCount[p] > 0) HeapPush(pairCount[p], p);
        }
        createdPairs.Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    void AddToPair(int left, int right, long frequency, int word)
    {
        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(pairIndex, Key(left, right), out var exists);
        if (!exists)
        {
            id = NewPair(left, right);
            createdPairs.Add(id);
        }
        pairCount[id] += frequency;
        var list = pairWords[id]!;
        var n = pairWordCount[id];
        // Words are processed one at a time, so a repeat within a word is always the last entry.
        if (n > 0 && list[n - 1] == word) return;
        if (n == list.Length) pairWords[id] = list = GrowList(list);
        list[n] = word;
        pairWordCount[id] = n + 1;
    }

    static int[] GrowList(int[] list)
    {
        var bigger = new int[list.Length * 2];
        list.CopyTo(bigger, 0);
        return bigger;
    }

    void RemoveFromPair(int left, int right, long frequency)
    {
        ref var id = ref CollectionsMarshal.GetValueRefOrNullRef(pairIndex, Key(left, right));
        // The merged pair itself has just been removed from the index; its count is zeroed anyway.
        if (!Unsafe.IsNullRef(ref id)) pairCount[id] -= frequency;
    }

    int NewPair(int left, int right)
    {
        if (pairTotal == pairCount.Length)
        {
            var n = pairTotal * 2;
            Array.Resize(ref pairCount, n);
            Array.Resize(ref pairLeft, n);
            Array.Resize(ref pairRight, n);
            Array.Resize(ref pairWords, n);
            Array.Resize(ref pairWordCount, n);
        }
        var id = pairTotal++;
        pairLeft[id] = left;
        pairRight[id] = right;
        pairWords[id] = new int[2];
        return id;
    }

    /// <summary>True when pair p ranks above pair q: higher count, then greater (left bytes, right bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    bool Above(long countP, int p, long countQ, int q)
    {
        if (countP != countQ) return countP > countQ;
        var c = TokenBytes[pairLeft[p]].AsSpan().SequenceCompareTo(TokenBytes[pairLeft[q]]);
        if (c == 0) c = TokenBytes[pairRight[p]].AsSpan().SequenceCompareTo(TokenBytes[pairRight[q]]);
        return c > 0;
    }

    void HeapPush(long count, int pair)
    {
        if (heapSize == heapCount.Length)
        {
            Array.Resize(ref heapCount, heapSize * 2);
            Array.Resize(ref heapPair, heapSize * 2);
        }
        var i = heapSize++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (!Above(count, pair, heapCount[parent], heapPair[parent])) break;
            heapCount[i] = heapCount[parent];
            heapPair[i] = heapPair[parent];
            i = parent;
        }
        heapCount[i] = count;
        heapPair[i] = pair;
    }

    void HeapPop()
    {
        var last = --heapSize;
        if (last == 0) return;
        var count = heapCount[last];
        var pair = heapPair[last];
        var i = 0;
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= last) break;
            if (child + 1 < last && Above(heapCount[child + 1], heapPair[child + 1], heapCount[child], heapPair[child])) child++;
            if (!Above(heapCount[child], heapPair[child], count, pair)) break;
            heapCount[i] = heapCount[child];
            heapPair[i] = heapPair[child];
            i = child;
        }
        heapCount[i] = count;
        heapPair[i] = pair;
    }
}

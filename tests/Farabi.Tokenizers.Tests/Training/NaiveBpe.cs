using System.Text;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Tests.Training;

/// <summary>
/// The textbook trainer, written for clarity only: recount every pair after every merge and take the
/// maximum by (count, left bytes, right bytes). The real trainer must agree with it merge for merge.
/// </summary>
static class NaiveBpe
{
    public static List<(byte[] Left, byte[] Right)> Train(IEnumerable<string> texts, int merges, IReadOnlyList<string> specials, PreTokenizer preTokenizer, int minFrequency = 1)
    {
        var words = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            var segments = new List<string> { text };
            foreach (var s in specials) segments = segments.SelectMany(x => x.Split(s)).ToList();
            foreach (var segment in segments)
                foreach (var piece in preTokenizer.Split(segment))
                    words[piece] = words.GetValueOrDefault(piece) + 1;
        }
        var symbols = words.Select(kv => (Symbols: Encoding.UTF8.GetBytes(kv.Key).Select(b => new[] { b }).ToList(), Count: kv.Value)).ToList();
        var result = new List<(byte[], byte[])>();
        for (var m = 0; m < merges; m++)
        {
            var counts = new Dictionary<(string, string), (long Count, byte[] L, byte[] R)>();
            foreach (var (syms, count) in symbols)
            {
                for (var i = 0; i + 1 < syms.Count; i++)
                {
                    var key = (Convert.ToHexString(syms[i]), Convert.ToHexString(syms[i + 1]));
                    var before = counts.TryGetValue(key, out var c) ? c.Count : 0;
                    counts[key] = (before + count, syms[i], syms[i + 1]);
                }
            }
            if (counts.Count == 0) break;
            var best = counts.Values.Aggregate((x, y) =>
                x.Count != y.Count ? (x.Count > y.Count ? x : y)
                : Compare(x.L, x.R, y.L, y.R) > 0 ? x : y);
            if (best.Count < minFrequency) break;
            result.Add((best.L, best.R));
            var merged = best.L.Concat(best.R).ToArray();
            foreach (var (syms, _) in symbols)
            {
                for (var i = 0; i + 1 < syms.Count; i++)
                {
                    if (syms[i].AsSpan().SequenceEqual(best.L) && syms[i + 1].AsSpan().SequenceEqual(best.R))
                    {
                        syms[i] = merged;
                        syms.RemoveAt(i + 1);
                    }
                }
            }
        }
        return result;
    }

    static int Compare(byte[] l1, byte[] r1, byte[] l2, byte[] r2)
    {
        var c = l1.AsSpan().SequenceCompareTo(l2);
        return c != 0 ? c : r1.AsSpan().SequenceCompareTo(r2);
    }
}

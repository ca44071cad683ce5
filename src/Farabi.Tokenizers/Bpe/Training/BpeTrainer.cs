using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Bpe.Training;

/// <summary>
/// Learns a byte-level BPE vocabulary (Sennrich et al. 2016, over bytes as in GPT-2, Radford et al. 2019).
/// <para>
/// Stage 1 counts each distinct pre-tokenized word once, in parallel over chunks of the corpus, so
/// the merge loop never looks at the raw text again. Stage 2 repeatedly merges the most frequent
/// adjacent pair of symbols. Each pair knows the words it occurs in, so a merge touches only those
/// words and updates the counts of the pairs around each occurrence; a max-heap with lazy deletion
/// (entries are re-checked when popped) finds the next best pair without rescanning all pairs.
/// </para>
/// <para>
/// Ties in count go to the lexicographically greater pair, comparing the first symbols' bytes, then the
/// second's (Python's <c>max((count, (a, b)))</c> on byte strings), which reproduces the reference
/// trainer of Stanford CS336 merge for merge.
/// </para>
/// </summary>
/// <example>
/// <code>
/// var trainer = new BpeTrainer(new BpeTrainerOptions
/// {
///     VocabSize = 32_000, SpecialTokens = ["&lt;|endoftext|&gt;"],
///     PreTokenizer = PreTokenizer.Persian, Normalizer = Normalizer.Persian,
/// });
/// var result = trainer.Train(TrainingCorpus.FromPath("data/fa"));
/// result.Save("runs/tokenizer-fa");   // vocab.json, merges.txt, farabi_tokenizer.json
/// </code>
/// </example>
public sealed class BpeTrainer
{
    /// <summary>The settings.</summary>
    public BpeTrainerOptions Options { get; }

    /// <summary>Characters per chunk of plain text handed to a counting worker (small in tests, to exercise the cuts).</summary>
    internal int ChunkChars { get; init; } = 1 << 20;

    /// <summary>Creates a trainer, checking the settings.</summary>
    /// <exception cref="ArgumentException">Vocabulary size below 256 + special tokens, a duplicate or empty special token,
    /// a special token with a line break, or a minimum pair frequency below 1.</exception>
    public BpeTrainer(BpeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var specials = options.SpecialTokens ?? [];
        if (specials.Any(string.IsNullOrEmpty)) throw new ArgumentException("A special token is empty.");
        var duplicate = specials.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new ArgumentException($"Special token '{duplicate.Key}' is given twice.");
        // The corpus is cut at line starts; a special token with a line break could straddle a cut.
        var withBreak = specials.FirstOrDefault(s => s.Contains('\n') || s.Contains('\r'));
        if (withBreak != null) throw new ArgumentException($"Special token '{withBreak.ReplaceLineEndings("\\n")}' contains a line break.");
        if (options.VocabSize < 256 + specials.Count)
            throw new ArgumentException($"Vocabulary size {options.VocabSize} is below 256 byte tokens + {specials.Count} special token(s) = {256 + specials.Count}.");
        if (options.MinPairFrequency < 1) throw new ArgumentException($"Minimum pair frequency {options.MinPairFrequency} is below 1.");
        if (options.MaxDegreeOfParallelism < 1) throw new ArgumentException($"Degree of parallelism {options.MaxDegreeOfParallelism} is below 1.");
        Options = options with { SpecialTokens = specials.ToArray(), PreTokenizer = options.PreTokenizer ?? PreTokenizer.Gpt2 };
    }

    /// <summary>Trains on one text in memory.</summary>
    public BpeTrainingResult Train(string text, CancellationToken cancellation = default) => Train(TrainingCorpus.FromText(text), cancellation);

    /// <summary>Trains on <paramref name="corpus"/>.</summary>
    /// <exception cref="InvalidDataException">The corpus holds no text, or a JSON line is malformed.</exception>
    public BpeTrainingResult Train(TrainingCorpus corpus, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var counts = CountWords(corpus, cancellation, out var chars, out var pieces);
        if (counts.Count == 0)
        {
            var files = corpus.Files;
            var what = files.Count == 0 ? "the given text"
                : files.Count <= 3 ? string.Join(", ", files) : $"{string.Join(", ", files.Take(3))} and {files.Count - 3} more files";
            throw new InvalidDataException($"The training corpus is empty (no text besides special tokens in {what}).");
        }
        var counting = clock.Elapsed;
        clock.Restart();
        var merger = new PairMerger(counts);
        counts.Clear();
        var specials = Options.SpecialTokens;
        var mergeBudget = Options.VocabSize - 256 - specials.Count;
        merger.Run(mergeBudget, Options.MinPairFrequency, Options.Progress, cancellation);
        var merging = clock.Elapsed;

        var tokens = new List<byte[]>(merger.TokenBytes);
        foreach (var s in specials) tokens.Add(Encoding.UTF8.GetBytes(s));
        var specialIds = specials.Select((s, i) => (s, id: merger.TokenBytes.Count + i)).ToDictionary(x => x.s, x => x.id, StringComparer.Ordinal);
        var stats = new BpeTrainingStatistics(chars, pieces, merger.WordCount, merger.Merges.Count, counting, merging);
        return new BpeTrainingResult(tokens, merger.Merges, specialIds, Options.PreTokenizer.Name, Options.Normalizer?.Name, stats);
    }

    /// <summary>
    /// Stage 1: the distinct pre-tokenized words of the corpus with their counts. Each worker counts
    /// its chunks into its own dictionary (keyed by the piece's characters, looked up by span, so a
    /// repeated word costs no allocation); the dictionaries are summed at the end, which gives the
    /// same totals whatever the scheduling.
    /// </summary>
    internal Dictionary<string, long> CountWords(TrainingCorpus corpus, CancellationToken cancellation, out long chars, out long pieces)
    {
        var total = corpus.TotalBytes;
        var progress = Options.Progress;
        var chunks = corpus.ReadChunks(ChunkChars).Select(c =>
        {
            progress?.Invoke(new BpeTrainingProgress(BpeTrainingStage.Counting, c.BytesRead, total));
            return c;
        });
        var counters = new ConcurrentBag<WordCounter>();
        if (Options.MaxDegreeOfParallelism == 1)
        {
            var counter = new WordCounter(Options);
            foreach (var chunk in chunks)
            {
                cancellation.ThrowIfCancellationRequested();
                counter.Count(chunk.Texts);
            }
            counters.Add(counter);
        }
        else
        {
            // NoBuffering: a worker takes one chunk at a time, so at most (workers + 1) chunks are in memory.
            var partitioner = Partitioner.Create(chunks, EnumerablePartitionerOptions.NoBuffering);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism, CancellationToken = cancellation };
            try
            {
                Parallel.ForEach(partitioner, parallel, () => new WordCounter(Options),
                    (chunk, _, counter) => { counter.Count(chunk.Texts); return counter; },
                    counters.Add);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
            {
                // A bad input line is the user's error: surface it as itself, not wrapped.
                ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
        }
        Dictionary<string, long>? all = null;
        chars = 0;
        pieces = 0;
        foreach (var c in counters.OrderByDescending(c => c.Words.Count))
        {
            chars += c.Chars;
            pieces += c.Pieces;
            if (all == null) { all = c.Words; continue; }
            foreach (var (word, n) in c.Words) CollectionsMarshal.GetValueRefOrAddDefault(all, word, out _) += n;
        }
        return all ?? [];
    }

    /// <summary>One worker's word counts.</summary>
    sealed class WordCounter(BpeTrainerOptions options)
    {
        public readonly Dictionary<string, long> Words = new(StringComparer.Ordinal);
        public long Chars, Pieces;
        readonly PreTokenizer preTokenizer = options.PreTokenizer;
        readonly string[] specials = options.SpecialTokens.ToArray();

        public void Count(IReadOnlyList<string> texts)
        {
            var lookup = Words.GetAlternateLookup<ReadOnlySpan<char>>();
            foreach (var text in texts)
            {
                var rest = text.AsSpan();
                // Cut at every special token first (as encoding does), so a normalizer never alters one;
                // the segments between are normalized and counted, the specials are not words.
                while (!rest.IsEmpty)
                {
                    var (at, length) = NextSpecial(rest);
                    var segment = rest[..at];
                    if (options.Normalizer is { } normalizer && !segment.IsEmpty) segment = normalizer.Normalize(segment.ToString());
                    Chars += segment.Length;
                    CountSegment(segment, lookup);
                    if (length == 0) break;
                    rest = rest[(at + length)..];
                }
            }
        }

        void CountSegment(ReadOnlySpan<char> segment, Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> lookup)
        {
            for (var i = 0; i < segment.Length;)
            {
                var end = preTokenizer.PieceEnd(segment, i);
                CollectionsMarshal.GetValueRefOrAddDefault(lookup, segment[i..end], out _)++;
                Pieces++;
                i = end;
            }
        }

        /// <summary>The leftmost special token in <paramref name="text"/> (the longest one when several start there); (Length, 0) when none.</summary>
        (int At, int Length) NextSpecial(ReadOnlySpan<char> text)
        {
            var best = text.Length;
            var bestLength = 0;
            foreach (var s in specials)
            {
                var at = text[..Math.Min(text.Length, best + s.Length)].IndexOf(s, StringComparison.Ordinal);
                if (at < 0) continue;
                if (at < best || (at == best && s.Length > bestLength)) { best = at; bestLength = s.Length; }
            }
            return (best, bestLength);
        }
    }
}

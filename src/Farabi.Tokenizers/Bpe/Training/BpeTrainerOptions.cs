using Farabi.Tokenizers.Normalizers;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Bpe.Training;

/// <summary>Settings of <see cref="BpeTrainer"/>.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>
    /// The size of the finished vocabulary: 256 byte tokens + merges + special tokens. Training stops
    /// earlier when no pair is frequent enough (<see cref="MinPairFrequency"/>).
    /// </summary>
    public int VocabSize { get; init; } = 32_000;

    /// <summary>
    /// Strings such as "&lt;|endoftext|&gt;" that get ids of their own (after the merges). The training
    /// text is cut at each occurrence, so no merge ever crosses or contains one.
    /// </summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = [];

    /// <summary>A pair seen fewer times than this is never merged (default 2: a pair seen once teaches nothing).</summary>
    public int MinPairFrequency { get; init; } = 2;

    /// <summary>Splits text into the words that merges stay inside (default GPT-2's pattern).</summary>
    public PreTokenizer PreTokenizer { get; init; } = PreTokenizer.Gpt2;

    /// <summary>
    /// Applied to the text between special tokens before pre-tokenization (e.g. <see cref="Normalizer.Persian"/>);
    /// null for none. Order: cut at special tokens, normalize each segment, pre-tokenize; encoding must do the same.
    /// </summary>
    public Normalizer? Normalizer { get; init; }

    /// <summary>Threads used to count words (the merge loop itself is sequential). Default: all cores.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Called now and then from the training thread(s) with how far training has got.</summary>
    public Action<BpeTrainingProgress>? Progress { get; init; }
}

/// <summary>The two stages of training.</summary>
public enum BpeTrainingStage
{
    /// <summary>Reading the corpus and counting distinct pre-tokenized words; Done/Total are input bytes.</summary>
    Counting,
    /// <summary>Merging the most frequent pairs; Done/Total are merges.</summary>
    Merging,
}

/// <summary>A progress report: <paramref name="Done"/> of <paramref name="Total"/> units of <paramref name="Stage"/> (Total is 0 when unknown).</summary>
public readonly record struct BpeTrainingProgress(BpeTrainingStage Stage, long Done, long Total);

/// <summary>Figures about one training run, for reports.</summary>
/// <param name="CorpusChars">UTF-16 characters read (after normalization).</param>
/// <param name="Pieces">Pre-tokenized pieces counted (words, with repeats).</param>
/// <param name="DistinctWords">Distinct pieces, i.e. the words the merge loop works on.</param>
/// <param name="Merges">Merges learned.</param>
/// <param name="CountingTime">Time spent reading, normalizing, pre-tokenizing and counting.</param>
/// <param name="MergingTime">Time spent in the merge loop (including building its tables).</param>
public sealed record BpeTrainingStatistics(long CorpusChars, long Pieces, int DistinctWords, int Merges, TimeSpan CountingTime, TimeSpan MergingTime);

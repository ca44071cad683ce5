using Farabi.Data;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Bpe.Training;

namespace Farabi.Research.WeakToStrong;

/// <summary>
/// What every size of a <see cref="GptClassifierFamily"/> pretrains on, and the BPE vocabulary they all share: built-in
/// English stories plus the task's unlabelled training texts (never its labels, never its test texts). Sharing one
/// vocabulary and one corpus keeps the comparison between sizes about capacity alone. The task texts play the part of
/// the web text a real GPT saw before fine-tuning: without them a model pretrained for a few hundred steps has never
/// seen most of the task's words.
/// </summary>
/// <remarks>
/// A byte-level vocabulary was tried first and left every size at chance after hundreds of steps: with bytes, a small
/// model must first learn to spell the sentiment words before it can count them. Whole-word tokens remove that detour.
/// </remarks>
public sealed class GptPretrainingCorpus
{
    /// <summary>The separator token between pretraining texts (also the pad and the empty text's token).</summary>
    public const string EndOfText = "<|endoftext|>";

    GptPretrainingCorpus(IReadOnlyList<string> texts, BpeTokenizer tokenizer)
    {
        Texts = texts;
        Tokenizer = tokenizer;
        EndOfTextId = tokenizer.SpecialTokens[EndOfText];
    }

    /// <summary>The pretraining texts, in order.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>The shared byte-level BPE vocabulary.</summary>
    public BpeTokenizer Tokenizer { get; }

    /// <summary>The id of <see cref="EndOfText"/>.</summary>
    public int EndOfTextId { get; }

    /// <summary>
    /// Built-in stories of about <paramref name="storyChars"/> characters plus <paramref name="domainTexts"/>, with a BPE
    /// vocabulary of <paramref name="vocabSize"/> tokens trained on them. Deterministic for a given input.
    /// </summary>
    /// <exception cref="ArgumentException">A vocabulary below 300 tokens (256 bytes, the separator and a few merges) or no text at all.</exception>
    public static GptPretrainingCorpus Create(IEnumerable<string> domainTexts, int vocabSize = 1024, int storyChars = 60_000, int seed = 0)
    {
        if (vocabSize < 300) throw new ArgumentException($"The GPT family's vocabulary needs at least 300 tokens, not {vocabSize}.");
        var texts = new List<string>();
        if (storyChars > 0) texts.AddRange(BuiltInText.Generate(storyChars, seed, "\n\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries));
        texts.AddRange(domainTexts.Where(t => t.Length > 0));
        if (texts.Count == 0) throw new ArgumentException("The pretraining corpus is empty.");
        var trained = new BpeTrainer(new BpeTrainerOptions { VocabSize = vocabSize, SpecialTokens = [EndOfText], MaxDegreeOfParallelism = 1 })
            .Train(TrainingCorpus.FromTexts(texts));
        return new GptPretrainingCorpus(texts, trained.ToTokenizer());
    }

    /// <summary>The corpus as one token stream, texts separated by <see cref="EndOfText"/>.</summary>
    public int[] TokenStream()
    {
        var ids = new List<int>();
        foreach (var text in Texts)
        {
            ids.AddRange(Tokenizer.EncodeOrdinary(text));
            ids.Add(EndOfTextId);
        }
        return [.. ids];
    }

    /// <summary>
    /// The ids of <paramref name="text"/>, cut to its first <paramref name="maxTokens"/> tokens; an empty text is the
    /// separator alone, so that every text has a last token to classify from.
    /// </summary>
    public int[] Encode(string text, int maxTokens)
    {
        var ids = Tokenizer.EncodeOrdinary(text);
        if (ids.Length == 0) return [EndOfTextId];
        return ids.Length <= maxTokens ? ids : ids[..maxTokens];
    }
}


namespace Farabi.Tokenizers.Bpe.Training;

/// <summary>
/// A trained byte-level BPE vocabulary. Ids: 0..255 are the single bytes in GPT-2's order
/// (<see cref="ByteLevel.Gpt2ByteOrder"/>), then one token per merge in merge order, then the
/// special tokens in the order given.
/// </summary>
public sealed class BpeTrainingResult
{
    /// <summary>The bytes of every token, by id.</summary>
    public IReadOnlyList<byte[]> Tokens { get; }

    /// <summary>The merges in order, as the ids of the two tokens merged; merge k created token 256 + k.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges { get; }

    /// <summary>Special token text → id.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>The pre-tokenizer trained with (<c>PreTokenizer.Name</c>, e.g. "gpt2"); encoding must use the same.</summary>
    public string PreTokenizerName { get; }

    /// <summary>The normalizer trained with (<c>Normalizer.Name</c>), or null for none.</summary>
    public string? NormalizerName { get; }

    /// <summary>Figures about the run (sizes and times).</summary>
    public BpeTrainingStatistics Statistics { get; }

    /// <summary>Vocabulary size: bytes + merges + special tokens.</summary>
    public int VocabSize => Tokens.Count;

    /// <summary>Creates a result (the trainer does; public so that tools can build one from parts).</summary>
    public BpeTrainingResult(IReadOnlyList<byte[]> tokens, IReadOnlyList<(int Left, int Right)> merges,
        IReadOnlyDictionary<string, int> specialTokens, string preTokenizerName, string? normalizerName, BpeTrainingStatistics statistics)
    {
        Tokens = tokens;
        Merges = merges;
        SpecialTokens = specialTokens;
        PreTokenizerName = preTokenizerName;
        NormalizerName = normalizerName;
        Statistics = statistics;
    }

    /// <summary>The vocabulary as a tokenizer, ready to encode (with this result's pre-tokenizer and normalizer).</summary>
    public BpeTokenizer ToTokenizer() => BpeTokenizer.FromTokens(Tokens, Merges, SpecialTokens,
        PreTokenizers.PreTokenizer.FromName(PreTokenizerName), "trained", NormalizerName);

    /// <summary>The file names <see cref="Save"/> writes.</summary>
    public const string VocabFile = "vocab.json", MergesFile = "merges.txt", ConfigFile = "farabi_tokenizer.json";


    /// <summary>
    /// Writes the vocabulary into <paramref name="directory"/> (created if needed), each file atomically:
    /// <c>vocab.json</c> (GPT-2/HF form: token in <see cref="ByteLevel"/> form → id; special tokens as
    /// their own text), <c>merges.txt</c> (<c>#version: 0.2</c>, then "left right" per merge in
    /// ByteLevel form) and <c>farabi_tokenizer.json</c> (pre-tokenizer, special tokens with ids,
    /// normalizer), through <see cref="Formats.VocabularyFolder"/>.
    /// </summary>
    public void Save(string directory)
    {
        var special = SpecialTokens.ToDictionary(kv => kv.Value, kv => kv.Key);
        var keys = new string[Tokens.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < Tokens.Count; id++)
        {
            keys[id] = special.TryGetValue(id, out var text) ? text : ByteLevel.Encode(Tokens[id]);
            // A special token is written as its own text, which could equal another token's byte-level form.
            if (!seen.TryAdd(keys[id], id))
                throw new ArgumentException($"Tokens {seen[keys[id]]} and {id} would both be written as '{keys[id]}' in {VocabFile}; choose another special token.");
        }
        ToTokenizer().Save(directory);
    }
}

using Farabi.Tokenizers.Formats;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Bpe;

public sealed partial class BpeTokenizer
{
    /// <summary>
    /// Loads a tiktoken rank file. Without <paramref name="preTokenizer"/> the encoding is recognised
    /// from the file name (gpt2, r50k, cl100k, o200k) or its size, which also gives its special tokens.
    /// </summary>
    public static BpeTokenizer FromTiktoken(string path, PreTokenizer? preTokenizer = null, IReadOnlyDictionary<string, int>? specialTokens = null, string? name = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the tiktoken file {path} does not exist.", path);
        List<(byte[] Bytes, int Id, int Rank)> tokens;
        using (var stream = File.OpenRead(path)) tokens = TiktokenFile.Read(stream, path);
        var known = EncodingDefinition.Guess(path) ?? tokens.Count switch
        {
            50256 => EncodingDefinition.Gpt2,
            100256 => EncodingDefinition.Cl100kBase,
            199998 => EncodingDefinition.O200kBase,
            _ => null,
        };
        if (preTokenizer == null && known == null)
            throw new ArgumentException($"{path}: a tiktoken file does not say how to pre-tokenize; name the pre-tokenizer (gpt2, cl100k_base, o200k_base).");
        return new BpeTokenizer(name ?? known?.Name ?? Path.GetFileNameWithoutExtension(path), preTokenizer ?? known!.PreTokenizer, tokens,
            specialTokens ?? known?.SpecialTokens ?? new Dictionary<string, int>(), path);
    }

    /// <summary>Loads GPT-2's <c>vocab.json</c> + <c>merges.txt</c> (see <see cref="Gpt2VocabFiles"/>); GPT-2's pre-tokenizer unless told otherwise.</summary>
    public static BpeTokenizer FromVocabAndMerges(string vocabPath, string mergesPath, PreTokenizer? preTokenizer = null, IReadOnlyDictionary<string, int>? specialTokens = null) =>
        Gpt2VocabFiles.Load(vocabPath, mergesPath, preTokenizer, specialTokens);

    /// <summary>Loads a Hugging Face <c>tokenizer.json</c> (see <see cref="HuggingFaceTokenizerJson"/>).</summary>
    public static BpeTokenizer FromTokenizerJson(string path) => HuggingFaceTokenizerJson.Load(path);

    /// <summary>
    /// Builds a tokenizer from tokens in id order (the trainer's output: the 256 single bytes, then
    /// merged tokens in merge order). <paramref name="merges"/> (pairs of ids, first merge first) gives
    /// the merge ranks; without it a token's id is its rank, as in tiktoken. A token whose bytes are a
    /// special token's text at the same id is taken as that special. <paramref name="normalizerName"/>
    /// is recorded (see <see cref="NormalizerName"/>) and saved with the vocabulary; it is not applied here.
    /// </summary>
    public static BpeTokenizer FromTokens(IReadOnlyList<byte[]> tokens, IReadOnlyList<(int Left, int Right)>? merges,
        IReadOnlyDictionary<string, int>? specialTokens, PreTokenizer preTokenizer, string name = "trained", string? normalizerName = null)
    {
        specialTokens ??= new Dictionary<string, int>();
        var specialIds = specialTokens.Values.ToHashSet();
        var entries = new List<(byte[] Bytes, int Id, int Rank)>(tokens.Count);
        var entryOfId = new Dictionary<int, int>();
        for (var id = 0; id < tokens.Count; id++)
        {
            if (specialIds.Contains(id)) continue;
            entryOfId[id] = entries.Count;
            entries.Add((tokens[id], id, merges == null && tokens[id].Length > 1 ? id : int.MaxValue));
        }
        if (merges != null)
        {
            var byBytes = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var e = 0; e < entries.Count; e++) byBytes.TryAdd(Convert.ToHexString(entries[e].Bytes), e);
            for (var r = 0; r < merges.Count; r++)
            {
                var (l, rt) = merges[r];
                if (!entryOfId.ContainsKey(l) || !entryOfId.ContainsKey(rt))
                    throw new ArgumentException($"merge {r} ({l}, {rt}) names an id that is not a mergeable token.");
                var joined = Convert.ToHexString([.. tokens[l], .. tokens[rt]]);
                if (!byBytes.TryGetValue(joined, out var e)) throw new ArgumentException($"merge {r} ({l}, {rt}) makes a token that is not in the token list.");
                if (entries[e].Rank == int.MaxValue) entries[e] = (entries[e].Bytes, entries[e].Id, r);
            }
        }
        var tokenizer = new BpeTokenizer(name, preTokenizer, entries, specialTokens);
        return normalizerName == null ? tokenizer : tokenizer.WithNormalizerName(normalizerName);
    }

    /// <summary>
    /// Loads whatever <paramref name="path"/> holds: a <c>.tiktoken</c> file, a <c>tokenizer.json</c>, or a
    /// folder with <c>farabi_tokenizer.json</c> (written here), <c>tokenizer.json</c>, <c>vocab.json</c> +
    /// <c>merges.txt</c>, or OpenAI's <c>encoder.json</c> + <c>vocab.bpe</c>.
    /// </summary>
    public static BpeTokenizer Load(string path)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, VocabularyFolder.SettingsFile))) return VocabularyFolder.Load(path);
            if (File.Exists(Path.Combine(path, "tokenizer.json"))) return HuggingFaceTokenizerJson.Load(Path.Combine(path, "tokenizer.json"));
            if (File.Exists(Path.Combine(path, "vocab.json"))) return Gpt2VocabFiles.Load(Path.Combine(path, "vocab.json"), Path.Combine(path, "merges.txt"));
            if (File.Exists(Path.Combine(path, "encoder.json"))) return Gpt2VocabFiles.Load(Path.Combine(path, "encoder.json"), Path.Combine(path, "vocab.bpe"));
            var tiktoken = Directory.GetFiles(path, "*.tiktoken");
            if (tiktoken.Length == 1) return FromTiktoken(tiktoken[0]);
            throw new FileNotFoundException($"the folder {path} holds no vocabulary (expected {VocabularyFolder.SettingsFile}, tokenizer.json, vocab.json + merges.txt, or one .tiktoken file).");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"the vocabulary {path} does not exist.", path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return HuggingFaceTokenizerJson.Load(path);
        return FromTiktoken(path);
    }

    /// <summary>Writes a tiktoken rank file (mergeable tokens only; tiktoken keeps specials in code).</summary>
    public void SaveTiktoken(string path) => TiktokenFile.Save(this, path);

    /// <summary>Writes GPT-2's <c>vocab.json</c> + <c>merges.txt</c>.</summary>
    public void SaveVocabAndMerges(string vocabPath, string mergesPath) => Gpt2VocabFiles.Save(this, vocabPath, mergesPath);

    /// <summary>Writes a Hugging Face <c>tokenizer.json</c>.</summary>
    public void SaveTokenizerJson(string path) => HuggingFaceTokenizerJson.Save(this, path);

    /// <summary>Writes the vocabulary folder (vocab.json, merges.txt, farabi_tokenizer.json) that <see cref="Load"/> reads back, pre-tokenizer included.</summary>
    public void Save(string folder) => VocabularyFolder.Save(this, folder);
}

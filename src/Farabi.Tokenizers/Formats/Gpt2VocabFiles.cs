using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Formats;

/// <summary>
/// GPT-2's pair of files: <c>vocab.json</c> (token in byte-level form → id; OpenAI called it
/// <c>encoder.json</c>) and <c>merges.txt</c> (<c>vocab.bpe</c>: one merge "a b" a line, first merge
/// first, after an optional <c>#version</c> line). A merge's line number is its rank.
/// </summary>
public static class Gpt2VocabFiles
{
    /// <summary>
    /// Reads the pair. Vocabulary entries named in <paramref name="specialTokens"/>, or when it is null
    /// those written like <c>&lt;|...|&gt;</c>, become special tokens.
    /// </summary>
    public static BpeTokenizer Load(string vocabPath, string mergesPath, PreTokenizer? preTokenizer = null,
        IReadOnlyDictionary<string, int>? specialTokens = null, string? name = null)
    {
        var vocab = ReadVocab(vocabPath);
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        if (specialTokens != null)
        {
            foreach (var (text, id) in specialTokens)
            {
                if (vocab.TryGetValue(text, out var vid) && vid != id)
                    throw new InvalidDataException($"{vocabPath}: special token {text} has id {vid} there but {id} in the tokenizer's settings.");
                vocab.Remove(text);
                specials[text] = id;
            }
        }
        else
        {
            foreach (var (text, id) in vocab.Where(kv => kv.Key.Length > 4 && kv.Key.StartsWith("<|", StringComparison.Ordinal) && kv.Key.EndsWith("|>", StringComparison.Ordinal)).ToList())
            {
                vocab.Remove(text);
                specials[text] = id;
            }
        }
        var tokens = new List<(byte[] Bytes, int Id, int Rank)>(vocab.Count);
        var entryOf = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        foreach (var (text, id) in vocab)
        {
            if (!ByteLevel.TryDecode(text, out var bytes) || bytes.Length == 0)
                throw new FormatException($"{vocabPath}: key \"{TiktokenFile.Shorten(text)}\" is not in GPT-2's byte-level form.");
            entryOf[text] = tokens.Count;
            tokens.Add((bytes, id, int.MaxValue));
        }
        ApplyMerges(mergesPath, vocabPath, tokens, entryOf);
        return new BpeTokenizer(name ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(vocabPath))) ?? "bpe",
            preTokenizer ?? PreTokenizer.Gpt2, tokens, specials, vocabPath);
    }

    internal static Dictionary<string, int> ReadVocab(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the vocabulary file {path} does not exist.", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return VocabFromJson(doc.RootElement, path, "the top level");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message.Split(". ")[0]}.");
        }
    }

    internal static Dictionary<string, int> VocabFromJson(JsonElement obj, string path, string where)
    {
        if (obj.ValueKind != JsonValueKind.Object) throw new FormatException($"{path}: {where} must be an object of token → id.");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var id) || id < 0)
                throw new FormatException($"{path}: key \"{TiktokenFile.Shorten(p.Name)}\" must map to a non-negative integer id.");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    static void ApplyMerges(string mergesPath, string vocabPath, List<(byte[] Bytes, int Id, int Rank)> tokens, Dictionary<string, int> entryOf)
    {
        if (!File.Exists(mergesPath)) throw new FileNotFoundException($"the merges file {mergesPath} does not exist.", mergesPath);
        var lineNumber = 0;
        var rank = 0;
        foreach (var line in File.ReadLines(mergesPath, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new FormatException($"{mergesPath}:{lineNumber}: expected two tokens separated by one space, got '{TiktokenFile.Shorten(line)}'.");
            SetRank(parts[0], parts[1], rank++, $"{mergesPath}:{lineNumber}", vocabPath, tokens, entryOf);
        }
    }

    internal static void SetRank(string left, string right, int rank, string where, string vocabPath,
        List<(byte[] Bytes, int Id, int Rank)> tokens, Dictionary<string, int> entryOf)
    {
        if (!entryOf.ContainsKey(left) || !entryOf.ContainsKey(right))
            throw new InvalidDataException($"{where}: merge '{left} {right}' uses a token that is not in {Path.GetFileName(vocabPath)}.");
        if (!entryOf.TryGetValue(left + right, out var e))
            throw new InvalidDataException($"{where}: merge '{left} {right}' makes '{left + right}', which is not in {Path.GetFileName(vocabPath)}.");
        var t = tokens[e];
        if (t.Rank == int.MaxValue) tokens[e] = (t.Bytes, t.Id, rank); // a token two merges make keeps the first
    }

    /// <summary>Writes <c>vocab.json</c> (specials included, as GPT-2's is) and <c>merges.txt</c>, each atomically.</summary>
    public static void Save(BpeTokenizer tokenizer, string vocabPath, string mergesPath)
    {
        AtomicFile.Write(vocabPath, s =>
        {
            using var w = new Utf8JsonWriter(s, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false });
            WriteVocab(w, tokenizer);
        });
        var sb = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in Merges(tokenizer)) sb.Append(left).Append(' ').Append(right).Append('\n');
        AtomicFile.WriteText(mergesPath, sb.ToString());
    }

    internal static void WriteVocab(Utf8JsonWriter w, BpeTokenizer tokenizer)
    {
        w.WriteStartObject();
        var all = tokenizer.MergeableTokens().Select(t => (Text: ByteLevel.Encode(t.Bytes), t.Id))
            .Concat(tokenizer.SpecialTokens.Select(kv => (Text: kv.Key, Id: kv.Value))).OrderBy(t => t.Id);
        foreach (var (text, id) in all) w.WriteNumber(text, id);
        w.WriteEndObject();
    }

    /// <summary>
    /// The merges in rank order, each recovered by merging the token's own bytes with only the ranks
    /// below its own (tiktoken files store no merges; minbpe's recover_merges does the same).
    /// Tokens that no merge can form (whole-piece matches only) have no merge line.
    /// </summary>
    internal static IEnumerable<(string Left, string Right)> Merges(BpeTokenizer tokenizer)
    {
        foreach (var (bytes, _, rank) in tokenizer.MergeableTokens().Where(t => t.Bytes.Length > 1 && t.Rank != int.MaxValue).OrderBy(t => t.Rank))
        {
            var parts = tokenizer.MergeBelow(bytes, rank);
            if (parts.Length != 2) continue;
            yield return (ByteLevel.Encode(tokenizer.TokenBytes(parts[0])), ByteLevel.Encode(tokenizer.TokenBytes(parts[1])));
        }
    }
}

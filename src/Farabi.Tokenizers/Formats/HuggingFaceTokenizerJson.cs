using System.Text.Encodings.Web;
using System.Text.Json;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Formats;

/// <summary>
/// Hugging Face <c>tokenizer.json</c> for byte-level BPE: <c>model</c> (type BPE, vocab, merges as
/// "a b" strings or [a, b] arrays), <c>added_tokens</c> (read as special tokens) and a
/// <c>pre_tokenizer</c> that is either ByteLevel with its built-in GPT-2 regex, or a Split by a regex
/// followed by ByteLevel. Known regexes map to Farabi's hand-compiled pre-tokenizers; any other is
/// refused rather than approximated, since it would silently give other ids.
/// </summary>
public static class HuggingFaceTokenizerJson
{
    /// <summary>Reads a <c>tokenizer.json</c>; errors name the file and the JSON key.</summary>
    public static BpeTokenizer Load(string path, string? name = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the tokenizer file {path} does not exist.", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new FormatException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message.Split(". ")[0]}."); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
                throw new FormatException($"{path}: key \"model\" is missing; this is not a tokenizer.json.");
            if (model.TryGetProperty("type", out var type) && type.GetString() != "BPE")
                throw new NotSupportedException($"{path}: model.type is \"{type}\"; only byte-level BPE is supported.");
            foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
                if (model.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() != "")
                    throw new NotSupportedException($"{path}: model.{key} is set; only byte-level BPE without subword markers is supported.");
            if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
                throw new NotSupportedException($"{path}: model.byte_fallback is true (a SentencePiece-style model); only byte-level BPE is supported.");
            if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind != JsonValueKind.Null)
                throw new NotSupportedException($"{path}: normalizer is set; Farabi imports byte-level BPE without a normalizer.");
            var pre = PreTokenizerOf(root, path);
            if (!model.TryGetProperty("vocab", out var vocabJson)) throw new FormatException($"{path}: key \"model.vocab\" is missing.");
            var vocab = Gpt2VocabFiles.VocabFromJson(vocabJson, path, "model.vocab");

            var specials = new Dictionary<string, int>(StringComparer.Ordinal);
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var t in added.EnumerateArray())
                {
                    if (!t.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String || !t.TryGetProperty("id", out var idJson) || !idJson.TryGetInt32(out var id))
                        throw new FormatException($"{path}: added_tokens[{i}] needs a string \"content\" and an integer \"id\".");
                    specials[c.GetString()!] = id;
                    vocab.Remove(c.GetString()!);
                    i++;
                }
            }
            var tokens = new List<(byte[] Bytes, int Id, int Rank)>(vocab.Count);
            var entryOf = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
            foreach (var (text, id) in vocab)
            {
                if (!ByteLevel.TryDecode(text, out var bytes) || bytes.Length == 0)
                    throw new FormatException($"{path}: model.vocab key \"{TiktokenFile.Shorten(text)}\" is not in GPT-2's byte-level form.");
                entryOf[text] = tokens.Count;
                tokens.Add((bytes, id, int.MaxValue));
            }
            if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array)
                throw new FormatException($"{path}: key \"model.merges\" is missing or not an array.");
            var rank = 0;
            foreach (var m in merges.EnumerateArray())
            {
                string left, right;
                if (m.ValueKind == JsonValueKind.String)
                {
                    var parts = m.GetString()!.Split(' ');
                    if (parts.Length != 2) throw new FormatException($"{path}: model.merges[{rank}] \"{m.GetString()}\" is not two tokens separated by one space.");
                    (left, right) = (parts[0], parts[1]);
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                {
                    (left, right) = (m[0].GetString()!, m[1].GetString()!);
                }
                else throw new FormatException($"{path}: model.merges[{rank}] must be \"a b\" or [\"a\", \"b\"].");
                Gpt2VocabFiles.SetRank(left, right, rank, $"{path}: model.merges[{rank}]", path, tokens, entryOf);
                rank++;
            }
            return new BpeTokenizer(name ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? "bpe", pre, tokens, specials, path);
        }
    }

    static PreTokenizer PreTokenizerOf(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var p) || p.ValueKind == JsonValueKind.Null)
            throw new NotSupportedException($"{path}: pre_tokenizer is missing; byte-level BPE needs ByteLevel or Split + ByteLevel.");
        var steps = Type(p) == "Sequence" && p.TryGetProperty("pretokenizers", out var seq) ? seq.EnumerateArray().ToList() : [p];
        PreTokenizer? found = null;
        foreach (var step in steps)
        {
            switch (Type(step))
            {
                case "ByteLevel":
                    if (step.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                        throw new NotSupportedException($"{path}: pre_tokenizer ByteLevel.add_prefix_space is true; tiktoken-style encoding adds no space.");
                    var useRegex = !step.TryGetProperty("use_regex", out var ur) || ur.ValueKind != JsonValueKind.False;
                    if (useRegex)
                    {
                        if (found != null) throw new NotSupportedException($"{path}: pre_tokenizer splits twice (Split, then ByteLevel with use_regex); not supported.");
                        found = PreTokenizer.Gpt2;
                    }
                    break;
                case "Split":
                    if (!step.TryGetProperty("pattern", out var pat) || !pat.TryGetProperty("Regex", out var rx) || rx.ValueKind != JsonValueKind.String)
                        throw new NotSupportedException($"{path}: pre_tokenizer Split needs pattern.Regex.");
                    if (step.TryGetProperty("behavior", out var beh) && beh.GetString() != "Isolated")
                        throw new NotSupportedException($"{path}: pre_tokenizer Split.behavior \"{beh.GetString()}\" is not supported (only Isolated).");
                    if (step.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True)
                        throw new NotSupportedException($"{path}: pre_tokenizer Split.invert is true; not supported.");
                    found = PreTokenizer.FromPattern(rx.GetString()!)
                        ?? throw new NotSupportedException($"{path}: pre_tokenizer.pattern.Regex '{TiktokenFile.Shorten(rx.GetString()!)}' is not one Farabi has compiled (gpt2, cl100k_base, o200k_base).");
                    break;
                default:
                    throw new NotSupportedException($"{path}: pre_tokenizer type \"{Type(step)}\" is not supported (ByteLevel or Split).");
            }
        }
        return found ?? throw new NotSupportedException($"{path}: pre_tokenizer has no regex split; not supported.");
    }

    static string? Type(JsonElement e) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) ? t.GetString() : null;

    /// <summary>
    /// Writes <paramref name="tokenizer"/> as a <c>tokenizer.json</c> that Hugging Face tokenizers loads
    /// (atomically). <c>ignore_merges</c> is true because tiktoken, like Llama 3's tokenizer, takes a
    /// piece that is a whole token as that token before merging.
    /// </summary>
    public static void Save(BpeTokenizer tokenizer, string path, bool ignoreMerges = true)
    {
        var pattern = tokenizer.PreTokenizer.Pattern
            ?? throw new NotSupportedException($"the pre-tokenizer {tokenizer.PreTokenizer.Name} has no regex form, so tokenizer.json cannot express it; save the vocabulary folder instead.");
        var merges = Gpt2VocabFiles.Merges(tokenizer).ToList();
        AtomicFile.Write(path, s =>
        {
            using var w = new Utf8JsonWriter(s, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true });
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var (text, id) in tokenizer.SpecialTokens.OrderBy(kv => kv.Value))
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", text);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            if (tokenizer.PreTokenizer == PreTokenizer.Gpt2)
            {
                WriteByteLevel(w, useRegex: true);
            }
            else
            {
                w.WriteString("type", "Sequence");
                w.WriteStartArray("pretokenizers");
                w.WriteStartObject();
                w.WriteString("type", "Split");
                w.WriteStartObject("pattern");
                w.WriteString("Regex", Patterns.ForHuggingFace(pattern));
                w.WriteEndObject();
                w.WriteString("behavior", "Isolated");
                w.WriteBoolean("invert", false);
                w.WriteEndObject();
                w.WriteStartObject();
                WriteByteLevel(w, useRegex: false);
                w.WriteEndObject();
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteNull("post_processor");
            w.WriteStartObject("decoder");
            WriteByteLevel(w, useRegex: true);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", ignoreMerges);
            w.WritePropertyName("vocab");
            Gpt2VocabFiles.WriteVocab(w, tokenizer);
            w.WriteStartArray("merges");
            foreach (var (left, right) in merges) w.WriteStringValue(left + " " + right);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    static void WriteByteLevel(Utf8JsonWriter w, bool useRegex)
    {
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", useRegex);
    }
}

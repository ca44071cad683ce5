using System.Text.Json;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Formats;

/// <summary>
/// The folder a vocabulary trained here lives in: GPT-2's <c>vocab.json</c> + <c>merges.txt</c> (so
/// any GPT-2 loader reads it) and <c>farabi_tokenizer.json</c> with what those two cannot say:
/// <c>{"pre_tokenizer": "gpt2", "special_tokens": {"&lt;|endoftext|&gt;": 256}, "normalizer": null}</c>.
/// </summary>
public static class VocabularyFolder
{
    /// <summary>The settings file's name.</summary>
    public const string SettingsFile = "farabi_tokenizer.json";

    /// <summary>Reads a folder written by <see cref="Save"/> or by the trainer.</summary>
    public static BpeTokenizer Load(string folder)
    {
        var settingsPath = Path.Combine(folder, SettingsFile);
        if (!File.Exists(settingsPath)) throw new FileNotFoundException($"the folder {folder} has no {SettingsFile}.", settingsPath);
        string preName = "gpt2";
        string? normalizer = null;
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(settingsPath));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FormatException($"{settingsPath}: expected a JSON object.");
            if (root.TryGetProperty("pre_tokenizer", out var p))
                preName = p.ValueKind == JsonValueKind.String ? p.GetString()! : throw new FormatException($"{settingsPath}: key \"pre_tokenizer\" must be a string.");
            // The normalizer is the trainer's business: its name (or its settings as JSON) is kept for the caller.
            if (root.TryGetProperty("normalizer", out var n) && n.ValueKind is not (JsonValueKind.Null or JsonValueKind.False))
                normalizer = n.ValueKind == JsonValueKind.String ? n.GetString() : n.GetRawText();
            if (root.TryGetProperty("special_tokens", out var s) && s.ValueKind != JsonValueKind.Null)
            {
                if (s.ValueKind == JsonValueKind.Array)
                {
                    // A list of names: their ids are the ones vocab.json gives them.
                    var vocab = Gpt2VocabFiles.ReadVocab(Path.Combine(folder, "vocab.json"));
                    foreach (var e in s.EnumerateArray())
                    {
                        var text = e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new FormatException($"{settingsPath}: key \"special_tokens\" must list strings.");
                        specials[text] = vocab.TryGetValue(text, out var id) ? id
                            : throw new InvalidDataException($"{settingsPath}: special token {text} is not in vocab.json, so it has no id.");
                    }
                }
                else
                {
                    foreach (var (text, id) in Gpt2VocabFiles.VocabFromJson(s, settingsPath, "key \"special_tokens\"")) specials[text] = id;
                }
            }
        }
        catch (JsonException e)
        {
            throw new FormatException($"{settingsPath}: not valid JSON (line {e.LineNumber + 1}): {e.Message.Split(". ")[0]}.");
        }
        PreTokenizer pre;
        try { pre = PreTokenizer.FromName(preName); }
        catch (KeyNotFoundException e) { throw new InvalidDataException($"{settingsPath}: key \"pre_tokenizer\": {e.Message}"); }
        var tokenizer = Gpt2VocabFiles.Load(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"), pre, specials,
            Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar)));
        return normalizer == null ? tokenizer : tokenizer.WithNormalizerName(normalizer);
    }

    /// <summary>Writes the three files into <paramref name="folder"/>, each atomically.</summary>
    public static void Save(BpeTokenizer tokenizer, string folder)
    {
        Directory.CreateDirectory(folder);
        Gpt2VocabFiles.Save(tokenizer, Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"));
        AtomicFile.Write(Path.Combine(folder, SettingsFile), s =>
        {
            using var w = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            w.WriteStartObject();
            w.WriteString("pre_tokenizer", tokenizer.PreTokenizer.Name);
            w.WriteStartObject("special_tokens");
            foreach (var (text, id) in tokenizer.SpecialTokens.OrderBy(kv => kv.Value)) w.WriteNumber(text, id);
            w.WriteEndObject();
            if (tokenizer.NormalizerName == null) w.WriteNull("normalizer");
            else w.WriteString("normalizer", tokenizer.NormalizerName);
            w.WriteNumber("vocab_size", tokenizer.VocabSize);
            w.WriteEndObject();
        });
    }
}

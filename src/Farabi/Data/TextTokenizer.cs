using System.Text;
using System.Text.Json.Nodes;

namespace Farabi.Data;

/// <summary>
/// Turns text into token ids and back. Training, evaluation and <c>farabi data tokenize</c> only need this
/// much, so a character-level, byte-level or BPE tokenizer plugs in alike; the JSON description travels with
/// token files and model folders so the same tokenizer can be rebuilt later.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>What kind of tokenizer this is: <c>char</c>, <c>byte</c>, or another registered mode (<c>bpe</c>).</summary>
    string Mode { get; }

    /// <summary>Number of distinct ids this tokenizer produces.</summary>
    int VocabSize { get; }

    /// <summary>The ids of <paramref name="text"/>.</summary>
    int[] Encode(string text);

    /// <summary>The text of <paramref name="ids"/>.</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>A JSON object holding <c>mode</c> and whatever else rebuilds this tokenizer (see <see cref="TextTokenizers.FromJson"/>).</summary>
    JsonObject ToJson();

    /// <summary>
    /// A decoder for generation: give it ids one at a time and it returns the text they complete, holding
    /// back the bytes of a character that is not finished yet (so a character split over tokens is never
    /// printed as U+FFFD halves). The default suits tokenizers whose every id is whole characters.
    /// </summary>
    Func<int, string> CreateStreamingDecoder() => id => Decode([id]);
}

/// <summary>
/// Character-level tokenizer, as nanoGPT's <c>shakespeare_char/prepare.py</c>: the vocabulary is the sorted set of
/// distinct characters (Unicode scalar values, sorted by code point like Python's <c>sorted(set(text))</c>) of a
/// training text, and each character is its index in that list.
/// </summary>
public sealed class CharTokenizer : ITextTokenizer
{
    readonly string[] chars;
    readonly Dictionary<string, int> index;

    /// <summary>A tokenizer over exactly <paramref name="vocabulary"/> (one character per entry, no duplicates).</summary>
    public CharTokenizer(IEnumerable<string> vocabulary)
    {
        chars = vocabulary.ToArray();
        index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i].EnumerateRunes().Count() != 1) throw new ArgumentException($"Character vocabulary entry {i} is not a single character.");
            if (!index.TryAdd(chars[i], i)) throw new ArgumentException($"Character vocabulary has '{chars[i]}' twice.");
        }
        if (chars.Length == 0) throw new ArgumentException("Character vocabulary is empty.");
    }

    /// <summary>The vocabulary of <paramref name="text"/>: its distinct characters sorted by code point.</summary>
    public static CharTokenizer FromText(string text) =>
        new(text.EnumerateRunes().Distinct().OrderBy(r => r.Value).Select(r => r.ToString()));

    /// <summary>The characters, in id order.</summary>
    public IReadOnlyList<string> Characters => chars;

    /// <inheritdoc/>
    public string Mode => "char";

    /// <inheritdoc/>
    public int VocabSize => chars.Length;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A character of the text is not in the vocabulary.</exception>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (!index.TryGetValue(rune.ToString(), out var id))
                throw new ArgumentException($"The character U+{rune.Value:X4} is not in the {chars.Length}-character vocabulary of this char-level tokenizer.");
            ids.Add(id);
        }
        return ids.ToArray();
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)chars.Length) throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is outside the vocabulary of {chars.Length} characters.");
            sb.Append(chars[id]);
        }
        return sb.ToString();
    }

    /// <inheritdoc/>
    public JsonObject ToJson() => new() { ["mode"] = Mode, ["vocab_size"] = VocabSize, ["chars"] = string.Concat(chars) };
}

/// <summary>Byte-level tokenizer: the ids are the UTF-8 bytes of the text (vocabulary 256); decoding replaces invalid sequences.</summary>
public sealed class ByteTokenizer : ITextTokenizer
{
    /// <summary>The one instance (it has no state).</summary>
    public static readonly ByteTokenizer Instance = new();

    /// <inheritdoc/>
    public string Mode => "byte";

    /// <inheritdoc/>
    public int VocabSize => 256;

    /// <inheritdoc/>
    public int[] Encode(string text) => Array.ConvertAll(Encoding.UTF8.GetBytes(text), b => (int)b);

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString(ids.Select(id =>
        (uint)id < 256 ? (byte)id : throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is not a byte.")).ToArray());

    /// <inheritdoc/>
    public JsonObject ToJson() => new() { ["mode"] = Mode, ["vocab_size"] = VocabSize };

    /// <inheritdoc/>
    public Func<int, string> CreateStreamingDecoder()
    {
        var decoder = Encoding.UTF8.GetDecoder();
        var one = new byte[1];
        var chars = new char[4];
        return id =>
        {
            one[0] = (byte)id;
            var n = decoder.GetChars(one, 0, 1, chars, 0, flush: false);
            return new string(chars, 0, n);
        };
    }
}

/// <summary>Builds tokenizers from their mode name or their JSON description.</summary>
public static class TextTokenizers
{
    /// <summary>
    /// Rebuilds other modes (<c>bpe</c>, ...) from their JSON description; the integration layer registers them
    /// here so this assembly need not know every tokenizer. Keys are mode names.
    /// </summary>
    public static readonly Dictionary<string, Func<JsonObject, string, ITextTokenizer>> Extra = new(StringComparer.Ordinal);

    /// <summary>
    /// The tokenizer named by <paramref name="mode"/> for <paramref name="trainingText"/>: <c>char</c> builds its
    /// vocabulary from the text, <c>byte</c> needs none, <c>bpe:ENCODING</c> (when registered) uses a BPE vocabulary.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown mode.</exception>
    public static ITextTokenizer ForMode(string mode, string trainingText) => mode switch
    {
        "char" => CharTokenizer.FromText(trainingText),
        "byte" => ByteTokenizer.Instance,
        // "bpe:gpt2", "bpe:path/to/vocabulary": a registered mode with its argument passed as "encoding".
        _ when mode.Split(':', 2) is [var name, var arg] && Extra.TryGetValue(name, out var make) =>
            make(new JsonObject { ["mode"] = name, ["encoding"] = arg }, "--mode"),
        _ => throw new ArgumentException($"Tokenizer mode '{mode}' is not known; use char, byte{string.Concat(Extra.Keys.Select(k => $", {k}:ENCODING"))}."),
    };

    /// <summary>Rebuilds a tokenizer from <see cref="ITextTokenizer.ToJson"/>; <paramref name="source"/> names the file in errors.</summary>
    /// <exception cref="InvalidDataException">The description is incomplete or names an unknown mode.</exception>
    public static ITextTokenizer FromJson(JsonObject json, string source)
    {
        var mode = json["mode"]?.GetValue<string>() ?? throw new InvalidDataException($"Tokenizer description in '{source}' has no 'mode'.");
        switch (mode)
        {
            case "byte":
                return ByteTokenizer.Instance;
            case "char":
                var chars = json["chars"]?.GetValue<string>() ?? throw new InvalidDataException($"Char tokenizer in '{source}' has no 'chars'.");
                try
                {
                    return new CharTokenizer(chars.EnumerateRunes().Select(r => r.ToString()));
                }
                catch (ArgumentException e)
                {
                    throw new InvalidDataException($"Char tokenizer in '{source}': {e.Message}");
                }
            default:
                if (Extra.TryGetValue(mode, out var make)) return make(json, source);
                throw new InvalidDataException($"Tokenizer in '{source}' has mode '{mode}', which this build cannot rebuild (char, byte{string.Concat(Extra.Keys.Select(k => ", " + k))}).");
        }
    }
}

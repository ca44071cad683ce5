using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Tokenizers;
using Farabi.Tokenizers.Clip;

namespace Farabi.Research.Clip;

/// <summary>Turns a caption into one fixed-length row of ids for a CLIP text tower.</summary>
public interface IClipTextTokenizer
{
    /// <summary>Length of every row (the text tower's max_position_embeddings).</summary>
    int ContextLength { get; }

    /// <summary>start-of-text, the caption's ids, end-of-text, then padding; cut to <see cref="ContextLength"/>.</summary>
    int[] Tokenize(string text);
}

/// <summary>OpenAI's CLIP BPE (for HF checkpoints), truncating like <c>clip.tokenize(truncate=True)</c>.</summary>
public sealed class ClipBpeTextTokenizer(ClipTokenizer tokenizer, int contextLength = ClipTokenizer.DefaultContextLength) : IClipTextTokenizer
{
    /// <inheritdoc/>
    public int ContextLength { get; } = contextLength;

    /// <inheritdoc/>
    public int[] Tokenize(string text) => tokenizer.Tokenize(text, ContextLength, truncate: true);
}

/// <summary>
/// A word-level vocabulary over a caption grammar, for CLIP models trained here on small closed vocabularies
/// (procedural scenes, class-name prompts) where BPE would only add noise. Ids: 0 pad, 1 unknown, the words
/// in ordinal order, then start-of-text and end-of-text last, so end-of-text is the largest id and both of
/// HF's pooling rules (argmax of ids, first eos_token_id) find it.
/// </summary>
public sealed class CaptionWordTokenizer : IClipTextTokenizer
{
    /// <summary>File name inside a model folder.</summary>
    public const string FileName = "farabi_caption_vocab.json";
    /// <summary>Padding id.</summary>
    public const int PadId = 0;
    /// <summary>Unknown-word id.</summary>
    public const int UnknownId = 1;

    readonly Dictionary<string, int> ids;
    readonly string[] tokens;

    CaptionWordTokenizer(string[] tokens, int contextLength)
    {
        this.tokens = tokens;
        ContextLength = contextLength;
        ids = tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i, StringComparer.Ordinal);
    }

    /// <inheritdoc/>
    public int ContextLength { get; }
    /// <summary>Number of ids.</summary>
    public int VocabSize => tokens.Length;
    /// <summary>The start-of-text id.</summary>
    public int StartOfTextId => tokens.Length - 2;
    /// <summary>The end-of-text id (the largest).</summary>
    public int EndOfTextId => tokens.Length - 1;

    /// <summary>Lower-cased words: runs of letters and digits (punctuation is dropped).</summary>
    public static IEnumerable<string> Words(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (inWord && start < 0) start = i;
            else if (!inWord && start >= 0) { yield return text[start..i].ToLowerInvariant(); start = -1; }
        }
    }

    /// <summary>A vocabulary of every word of <paramref name="texts"/>.</summary>
    public static CaptionWordTokenizer Build(IEnumerable<string> texts, int contextLength)
    {
        if (contextLength < 2) throw new ArgumentException($"the context length must be at least 2, not {contextLength}.");
        var words = texts.SelectMany(Words).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return new CaptionWordTokenizer(["<|pad|>", "<|unk|>", .. words, "<|startoftext|>", "<|endoftext|>"], contextLength);
    }

    /// <inheritdoc/>
    public int[] Tokenize(string text)
    {
        var row = new int[ContextLength];
        row[0] = StartOfTextId;
        var n = 1;
        foreach (var w in Words(text))
        {
            if (n == ContextLength - 1) break;
            row[n++] = ids.TryGetValue(w, out var id) ? id : UnknownId;
        }
        row[n] = EndOfTextId;
        return row;
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="folder"/>.</summary>
    public void Save(string folder) => AtomicFile.WriteText(Path.Combine(folder, FileName),
        new JsonObject { ["context_length"] = ContextLength, ["tokens"] = new JsonArray(tokens.Select(t => (JsonNode)t).ToArray()) }.ToJsonString() + "\n");

    /// <summary>Reads <see cref="FileName"/> from <paramref name="folder"/>.</summary>
    public static CaptionWordTokenizer Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))!;
            var tokens = json["tokens"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray();
            return new CaptionWordTokenizer(tokens, json["context_length"]!.GetValue<int>());
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' is not a caption vocabulary (expected context_length and tokens).");
        }
    }

    /// <summary>
    /// The tokenizer of a model folder: <see cref="FileName"/> when present, else HF's CLIP BPE
    /// (<c>vocab.json</c> + <c>merges.txt</c>).
    /// </summary>
    public static IClipTextTokenizer LoadFor(string folder, int contextLength)
    {
        if (File.Exists(Path.Combine(folder, FileName))) return Load(folder);
        var vocab = Path.Combine(folder, "vocab.json");
        var merges = Path.Combine(folder, "merges.txt");
        if (!File.Exists(vocab) || !File.Exists(merges))
            throw new FileNotFoundException($"CLIP model folder '{folder}' has neither {FileName} nor vocab.json + merges.txt, so its captions cannot be tokenized.");
        return new ClipBpeTextTokenizer(ClipTokenizer.LoadHf(vocab, merges), contextLength);
    }
}

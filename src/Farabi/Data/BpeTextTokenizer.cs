using System.Text.Json.Nodes;
using Farabi.Tokenizers.Bpe;

namespace Farabi.Data;

/// <summary>
/// A byte-level BPE vocabulary (GPT-2's, cl100k, or one trained with <c>farabi tokenizer train</c>) as the
/// tokenizer of a language model. Its JSON description names the encoding (a name or a full path), which
/// <see cref="TextTokenizers.Extra"/>["bpe"] resolves when a model or token file is opened again.
/// </summary>
public sealed class BpeTextTokenizer(BpeTokenizer tokenizer, string encoding) : ITextTokenizer
{
    /// <summary>The mode name in JSON descriptions.</summary>
    public const string ModeName = "bpe";

    /// <summary>The vocabulary.</summary>
    public BpeTokenizer Tokenizer { get; } = tokenizer;

    /// <summary>The encoding name or full path this tokenizer was resolved from.</summary>
    public string Encoding { get; } = encoding;

    /// <inheritdoc/>
    public string Mode => ModeName;

    /// <inheritdoc/>
    public int VocabSize => Tokenizer.VocabSize;

    /// <inheritdoc/>
    /// <remarks>Special tokens in training text (e.g. "&lt;|endoftext|&gt;" between documents) become their ids.</remarks>
    public int[] Encode(string text) => Tokenizer.Encode(text, SpecialTokenPolicy.AllowAll);

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids) => Tokenizer.Decode(ids.ToArray());

    /// <inheritdoc/>
    public JsonObject ToJson() => new() { ["mode"] = ModeName, ["encoding"] = Encoding, ["vocab_size"] = VocabSize };

    /// <inheritdoc/>
    public Func<int, string> CreateStreamingDecoder()
    {
        var stream = Tokenizer.CreateStreamingDecoder();
        return stream.Push;
    }
}

using System.Text;

namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// Turns ids into text one at a time, as a generator produces them. A token may end inside a UTF-8
/// character (byte-level BPE splits emoji and Persian letters across tokens), so text is emitted
/// only up to the last complete character; the rest waits for the next id. Invalid bytes become
/// U+FFFD, as in <see cref="BpeTokenizer.Decode(ReadOnlySpan{int})"/>.
/// </summary>
public sealed class StreamingDecoder
{
    readonly BpeTokenizer _tokenizer;
    readonly Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();
    char[] _chars = new char[64];

    internal StreamingDecoder(BpeTokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>Adds one id; returns the text that became complete (possibly empty).</summary>
    public string Push(int id) => Emit(_tokenizer.TokenBytes(id), flush: false);

    /// <summary>Adds several ids; returns the text that became complete.</summary>
    public string Push(ReadOnlySpan<int> ids) => Emit(_tokenizer.DecodeBytes(ids), flush: false);

    /// <summary>Ends the stream: returns what is left, an unfinished character becoming U+FFFD; the decoder is then reset.</summary>
    public string Flush() => Emit([], flush: true);

    string Emit(ReadOnlySpan<byte> bytes, bool flush)
    {
        var need = _utf8.GetCharCount(bytes, flush: false) + 4;
        if (_chars.Length < need) _chars = new char[Math.Max(need, _chars.Length * 2)];
        var n = _utf8.GetChars(bytes, _chars, flush);
        return n == 0 ? "" : new string(_chars, 0, n);
    }
}

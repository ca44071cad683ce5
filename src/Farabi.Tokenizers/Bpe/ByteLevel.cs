namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// GPT-2's reversible map from bytes to printable Unicode characters, used by <c>vocab.json</c>,
/// <c>merges.txt</c> and HF <c>tokenizer.json</c> to store byte strings as text: printable Latin-1
/// bytes map to themselves, the other 68 bytes to U+0100 onwards (so the space byte is "Ġ").
/// </summary>
public static class ByteLevel
{
    static readonly char[] ByteToChar = BuildByteToChar();
    static readonly Dictionary<char, byte> CharToByte = Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    /// <summary>The 256 bytes in GPT-2's vocabulary order (printable bytes first, then the rest).</summary>
    public static IReadOnlyList<byte> Gpt2ByteOrder { get; } =
        Enumerable.Range(0, 256).OrderBy(b => ByteToChar[b] >= 256 ? 1 : 0).ThenBy(b => (int)ByteToChar[b]).Select(b => (byte)b).ToArray();

    /// <summary>The printable character that stands for <paramref name="b"/>.</summary>
    public static char ToChar(byte b) => ByteToChar[b];

    /// <summary>Encodes bytes as their printable form, e.g. " the" → "Ġthe".</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, src) =>
        {
            for (var i = 0; i < src.Length; i++) span[i] = ByteToChar[src[i]];
        });
    }

    /// <summary>Decodes the printable form back to bytes; false when a character is not in the map.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (!CharToByte.TryGetValue(text[i], out var b)) { bytes = []; return false; }
            bytes[i] = b;
        }
        return true;
    }
}

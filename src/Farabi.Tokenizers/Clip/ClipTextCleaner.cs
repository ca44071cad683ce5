using System.Net;
using System.Text;

namespace Farabi.Tokenizers.Clip;

/// <summary>
/// The text cleanup openai/CLIP runs before tokenizing (<c>simple_tokenizer.py</c>: <c>basic_clean</c>,
/// <c>whitespace_clean</c>, then <c>lower()</c>). CLIP calls ftfy's <c>fix_text</c>; this keeps the
/// parts of ftfy that change ordinary text — curly quotes to straight ones, Latin ligatures and full-width
/// ASCII to plain letters, line breaks unified, control characters removed — and leaves out ftfy's mojibake
/// repair (only for text decoded with the wrong encoding) and its final NFC normalisation (text with
/// decomposed accents, rare in practice, tokenizes differently from CLIP).
/// </summary>
public static class ClipTextCleaner
{
    /// <summary>The full cleanup: ftfy-like fixes, HTML unescaped twice, whitespace collapsed, lower-cased.</summary>
    public static string Clean(string text)
    {
        var fixedText = FixText(text);
        // CLIP unescapes twice so "&amp;amp;" (doubly escaped scraped text) becomes "&".
        var unescaped = WebUtility.HtmlDecode(WebUtility.HtmlDecode(fixedText));
        return CollapseWhitespace(unescaped).ToLowerInvariant();
    }

    /// <summary>The subset of ftfy's <c>fix_text</c> described on the class.</summary>
    public static string FixText(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var c = rune.Value;
            switch (c)
            {
                // uncurl_quotes: ftfy maps U+02BC and U+2018..U+201B to ', U+201C..U+201F to ".
                case 0x02BC or >= 0x2018 and <= 0x201B: sb.Append('\''); continue;
                case >= 0x201C and <= 0x201F: sb.Append('"'); continue;
                // fix_line_breaks: all line separators become \n.
                case 0x2028 or 0x2029 or 0x0085: sb.Append('\n'); continue;
                // fix_character_width: the ideographic space is a plain space.
                case 0x3000: sb.Append(' '); continue;
            }
            if (IsRemovedControl(c)) continue;
            // fix_character_width: full-width ASCII forms become ASCII.
            if (c is >= 0xFF01 and <= 0xFF5E) { sb.Append((char)(c - 0xFEE0)); continue; }
            // fix_latin_ligatures.
            if (Ligatures.TryGetValue(c, out var plain)) { sb.Append(plain); continue; }
            sb.Append(rune.ToString());
        }
        return sb.ToString().Replace("\r\n", "\n").Replace('\r', '\n');
    }

    // Farabi runs with invariant globalization, where .NET's string.Normalize has no Unicode tables, so
    // ftfy's compatibility mappings are spelled out; NFC composition is not done (text is nearly always NFC).
    static readonly Dictionary<int, string> Ligatures = new()
    {
        [0x0132] = "IJ", [0x0133] = "ij", [0x0149] = "ʼn", [0x01C4] = "DŽ", [0x01C5] = "Dž", [0x01C6] = "dž",
        [0x01C7] = "LJ", [0x01C8] = "Lj", [0x01C9] = "lj", [0x01CA] = "NJ", [0x01CB] = "Nj", [0x01CC] = "nj",
        [0x01F1] = "DZ", [0x01F2] = "Dz", [0x01F3] = "dz", [0xFB00] = "ff", [0xFB01] = "fi", [0xFB02] = "fl",
        [0xFB03] = "ffi", [0xFB04] = "ffl", [0xFB05] = "ſt", [0xFB06] = "st",
    };

    /// <summary>ftfy's <c>remove_control_chars</c>: C0 controls except tab, newlines and form feed; DEL; bidi/BOM/interlinear marks; tag characters.</summary>
    static bool IsRemovedControl(int c) =>
        c is >= 0x00 and <= 0x08 or 0x0B or >= 0x0E and <= 0x1F or 0x7F or >= 0x206A and <= 0x206F or 0xFEFF
            or >= 0xFFF9 and <= 0xFFFC or >= 0xE0000 and <= 0xE007F;

    /// <summary>
    /// Python's <c>str.isspace()</c>, which CLIP's <c>\s</c> follows: .NET's <see cref="char.IsWhiteSpace(char)"/>
    /// plus the information separators U+001C..U+001F.
    /// </summary>
    public static bool IsSpace(int c) => c is >= 0x1C and <= 0x1F || (c < 0x10000 && char.IsWhiteSpace((char)c));

    /// <summary><c>re.sub(r'\s+', ' ', text).strip()</c>.</summary>
    public static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var ch in text)
        {
            if (IsSpace(ch)) { pendingSpace = sb.Length > 0; continue; }
            if (pendingSpace) { sb.Append(' '); pendingSpace = false; }
            sb.Append(ch);
        }
        return sb.ToString();
    }
}

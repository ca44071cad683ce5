using System.Globalization;
using System.Text;

namespace Farabi.Tokenizers.Clip;

/// <summary>
/// CLIP's pre-tokenizer, hand-compiled from its pattern
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// (case-insensitive). Unlike GPT-2's, whitespace is not part of any piece: <c>re.findall</c> skips it, and
/// word boundaries are marked later by <c>&lt;/w&gt;</c>. A number is one digit per piece, so "2024" is
/// four pieces. Works on code points (runes), so letters outside the Basic Multilingual Plane count as
/// letters as they do in Python, where .NET's <c>Regex</c> would see two surrogates.
/// </summary>
public static class ClipPreTokenizer
{
    /// <summary>The start-of-text marker.</summary>
    public const string StartOfText = "<|startoftext|>";

    /// <summary>The end-of-text marker.</summary>
    public const string EndOfText = "<|endoftext|>";

    static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    enum Kind { Space, Letter, Number, Other }

    static Kind Classify(Rune r)
    {
        if (ClipTextCleaner.IsSpace(r.Value)) return Kind.Space;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }

    /// <summary>The pieces of <paramref name="text"/> in order, whitespace dropped.</summary>
    public static List<string> Split(string text)
    {
        var pieces = new List<string>();
        var span = text.AsSpan();
        var i = 0;
        while (i < span.Length)
        {
            Rune.DecodeFromUtf16(span[i..], out var rune, out var len);
            var kind = Classify(rune);
            if (kind == Kind.Space) { i += len; continue; }
            // Alternatives in the pattern's order: the markers, then the contractions, then the classes.
            var rest = span[i..];
            if (rest.StartsWith(StartOfText, StringComparison.OrdinalIgnoreCase)) { pieces.Add(text.Substring(i, StartOfText.Length)); i += StartOfText.Length; continue; }
            if (rest.StartsWith(EndOfText, StringComparison.OrdinalIgnoreCase)) { pieces.Add(text.Substring(i, EndOfText.Length)); i += EndOfText.Length; continue; }
            if (rune.Value == '\'')
            {
                string? matched = null;
                foreach (var c in Contractions)
                    if (rest.StartsWith(c, StringComparison.OrdinalIgnoreCase)) { matched = c; break; }
                if (matched != null) { pieces.Add(text.Substring(i, matched.Length)); i += matched.Length; continue; }
            }
            if (kind == Kind.Number) { pieces.Add(text.Substring(i, len)); i += len; continue; }
            // Letters: a run of letters. Other: a run of anything that is neither space, letter nor number
            // (a marker or contraction inside such a run does not stop it, as in the regex).
            var start = i;
            i += len;
            while (i < span.Length)
            {
                Rune.DecodeFromUtf16(span[i..], out var next, out var nextLen);
                if (Classify(next) != kind) break;
                i += nextLen;
            }
            pieces.Add(text[start..i]);
        }
        return pieces;
    }
}

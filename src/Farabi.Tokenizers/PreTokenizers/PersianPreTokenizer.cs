using System.Globalization;

namespace Farabi.Tokenizers.PreTokenizers;

/// <summary>
/// GPT-2's pattern adapted to Persian script. Three differences, each because the GPT-2 pattern
/// splits Persian words in places where a merge should be allowed:
/// <list type="bullet">
/// <item>A word is letters and combining marks (Unicode Mn/Mc/Me: Persian vowel marks, shadda,
/// hamza above) joined by the zero-width non-joiner (ZWNJ, U+200C). GPT-2's <c>\p{L}+</c> cuts
/// «می‌خواهم» into «می», «‌», «خواهم» and splits every vowel mark off its letter; here both stay
/// one piece, with the leading space attached as in GPT-2.</item>
/// <item>Digits (ASCII, Persian ۰-۹, Arabic-Indic ٠-٩, any <c>\p{N}</c>) form runs of at most three,
/// with no leading space, as in cl100k: numbers then share a few hundred tokens across scripts.</item>
/// <item>Persian punctuation ، ؛ ؟ « » ٪ ٫ ٬ is always a piece of its own (optionally after a space),
/// never glued to a neighbouring punctuation run such as «».» or «)،».</item>
/// </list>
/// English contractions, other punctuation runs and whitespace behave as in GPT-2.
/// </summary>
public sealed class PersianPreTokenizer : PreTokenizer
{
    /// <summary>The shared instance.</summary>
    public static PersianPreTokenizer Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "persian";

    const char Zwnj = '\u200C';

    enum Kind : byte { Word, Joiner, Number, Space, PersianPunctuation, Other }

    static bool IsPersianPunctuation(char c) => c is '\u060C' or '\u061B' or '\u061F' or '\u00AB' or '\u00BB' or '\u066A' or '\u066B' or '\u066C';

    /// <summary>Classifies the code point at <paramref name="i"/> for this pattern.</summary>
    static Kind KindAt(ReadOnlySpan<char> text, int i, out int width)
    {
        var k = Classify(text, i, out width);
        switch (k)
        {
            case CharClass.Letter: return Kind.Word;
            case CharClass.Number: return Kind.Number;
            case CharClass.Space or CharClass.Newline: return Kind.Space;
        }
        var c = text[i];
        if (c < 128) return Kind.Other;
        if (c == Zwnj) return Kind.Joiner;
        if (IsPersianPunctuation(c)) return Kind.PersianPunctuation;
        var cat = width == 2 ? CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, text[i + 1])) : CharUnicodeInfo.GetUnicodeCategory(c);
        return cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            ? Kind.Word : Kind.Other;
    }

    /// <inheritdoc/>
    public override int PieceEnd(ReadOnlySpan<char> text, int start)
    {
        var c = text[start];
        if (ContractionEnd(text, start) is var contraction and > 0) return contraction;
        var i = start;
        var k = KindAt(text, i, out var w);
        if (c == ' ' && i + 1 < text.Length)
        {
            // A single space leads the word or punctuation after it, as in GPT-2; never a number.
            var k2 = KindAt(text, i + 1, out var w2);
            if (k2 is Kind.Word or Kind.Joiner or Kind.PersianPunctuation or Kind.Other) { i += 1; k = k2; w = w2; }
        }
        switch (k)
        {
            case Kind.Word:
                return WordEnd(text, i + w);
            case Kind.Number:
                {
                    var end = i + w;
                    for (var n = 1; n < 3 && end < text.Length; n++)
                    {
                        if (KindAt(text, end, out var wn) != Kind.Number) break;
                        end += wn;
                    }
                    return end;
                }
            case Kind.PersianPunctuation:
                return i + w;
            case Kind.Joiner or Kind.Other:
                {
                    var end = i + w;
                    while (end < text.Length)
                    {
                        var kn = KindAt(text, end, out var wn);
                        if (kn is not (Kind.Other or Kind.Joiner)) break;
                        end += wn;
                    }
                    return end;
                }
            default:
                return WhitespaceEnd(text, start);
        }
    }

    /// <summary>Letters, combining marks and ZWNJs from <paramref name="i"/> on.</summary>
    static int WordEnd(ReadOnlySpan<char> text, int i)
    {
        while (i < text.Length)
        {
            var c = text[i];
            if (c < 128)
            {
                if (!char.IsAsciiLetter(c)) break;
                i++;
                continue;
            }
            var k = KindAt(text, i, out var w);
            if (k is not (Kind.Word or Kind.Joiner)) break;
            i += w;
        }
        return i;
    }
}

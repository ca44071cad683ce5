using System.Globalization;
using System.Runtime.CompilerServices;

namespace Farabi.Tokenizers.PreTokenizers;

/// <summary>
/// o200k_base's pattern (GPT-4o), hand-compiled over code points. Words split at case changes
/// (<c>[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+</c>, then the upper-case-run
/// alternative), marks count as letters, contractions stick to the word before them, and a run of
/// punctuation keeps trailing newlines and slashes. See <see cref="Patterns.O200k"/> for the regex.
/// </summary>
sealed class O200kPreTokenizer : PreTokenizer
{
    public override string Name => "o200k_base";

    public override string? Pattern => Patterns.O200k;

    /// <summary>The classes this pattern distinguishes (finer than <see cref="PreTokenizer.CharClass"/>).</summary>
    enum K : byte { Upper, Lower, LetterBoth, Mark, Number, Space, Newline, Other }

    static readonly K[] Ascii = BuildAscii();

    static K[] BuildAscii()
    {
        var t = new K[128];
        for (var c = 0; c < 128; c++)
        {
            t[c] = c is >= 'a' and <= 'z' ? K.Lower
                : c is >= 'A' and <= 'Z' ? K.Upper
                : c is >= '0' and <= '9' ? K.Number
                : c is '\r' or '\n' ? K.Newline
                : c is ' ' or '\t' or '\v' or '\f' ? K.Space
                : K.Other;
        }
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static K Cls(ReadOnlySpan<char> text, int i, out int width)
    {
        var c = text[i];
        if (c < 128) { width = 1; return Ascii[c]; }
        var k = Bmp[c];
        if (k != SurrogateMark) { width = 1; return (K)k; }
        return ClsSlow(text, i, out width);
    }

    // Every BMP character's class, computed once (64 KB), as in PreTokenizer.Classify.
    static readonly byte[] Bmp = BuildBmpTable(c => (byte)(c < 128 ? Ascii[c] : ClassOf(c)));

    static K ClsSlow(ReadOnlySpan<char> text, int i, out int width) => ClassOf(CodePointAt(text, i, out width));

    static K ClassOf(int codePoint)
    {
        if (IsPatternSpace(codePoint)) return K.Space;
        var cat = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        return cat switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.TitlecaseLetter => K.Upper,
            UnicodeCategory.LowercaseLetter => K.Lower,
            UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => K.LetterBoth,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => K.Mark,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => K.Number,
            _ => K.Other,
        };
    }

    static bool InUpperSet(K k) => k is K.Upper or K.LetterBoth or K.Mark;
    static bool InLowerSet(K k) => k is K.Lower or K.LetterBoth or K.Mark;

    public override int PieceEnd(ReadOnlySpan<char> text, int start)
    {
        var k0 = Cls(text, start, out var w0);
        // The optional lead [^\r\n\p{L}\p{N}]? may be a space, a symbol or a mark; the regex tries
        // "lead taken" before "lead not taken", and the whole first alternative before the second.
        var canLead = k0 is K.Space or K.Other or K.Mark && start + w0 < text.Length;
        int end;
        if ((canLead && (end = LowerWordEnd(text, start + w0)) > 0) || (end = LowerWordEnd(text, start)) > 0
            || (canLead && (end = UpperWordEnd(text, start + w0)) > 0) || (end = UpperWordEnd(text, start)) > 0)
        {
            return WithContraction(text, end);
        }
        if (k0 == K.Number)
        {
            var i = start + w0;
            for (var n = 1; n < 3 && i < text.Length; n++)
            {
                if (Cls(text, i, out var wn) != K.Number) break;
                i += wn;
            }
            return i;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n/]*'
        var j = -1;
        if (k0 is K.Other or K.Mark) j = start + w0;
        else if (text[start] == ' ' && start + 1 < text.Length && Cls(text, start + 1, out var w1) is K.Other or K.Mark) j = start + 1 + w1;
        if (j >= 0)
        {
            while (j < text.Length)
            {
                var kj = Cls(text, j, out var wj);
                if (kj is not (K.Other or K.Mark)) break;
                j += wj;
            }
            while (j < text.Length && text[j] is '\r' or '\n' or '/') j++;
            return j;
        }
        return NewlineAwareWhitespaceEnd(text, start, trailingRunWhole: false);
    }

    /// <summary>
    /// <c>[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+</c> at <paramref name="q"/> with
    /// the regex's backtracking: the greedy upper run, then a lower run after it; failing that, the
    /// run ends just after its last character that belongs to both sets. 0 when nothing matches.
    /// </summary>
    static int LowerWordEnd(ReadOnlySpan<char> text, int q)
    {
        var i = q;
        var lastBothEnd = 0;
        while (i < text.Length)
        {
            var k = Cls(text, i, out var w);
            if (!InUpperSet(k)) break;
            i += w;
            if (k is K.LetterBoth or K.Mark) lastBothEnd = i;
        }
        if (i < text.Length && Cls(text, i, out var wl) == K.Lower) return LowerRunEnd(text, i + wl);
        return lastBothEnd;
    }

    /// <summary><c>[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*</c> at <paramref name="q"/>; 0 when nothing matches.</summary>
    static int UpperWordEnd(ReadOnlySpan<char> text, int q)
    {
        if (q >= text.Length || !InUpperSet(Cls(text, q, out _))) return 0;
        var i = q;
        while (i < text.Length)
        {
            var k = Cls(text, i, out var w);
            if (!InUpperSet(k)) break;
            i += w;
        }
        return LowerRunEnd(text, i);
    }

    static int LowerRunEnd(ReadOnlySpan<char> text, int i)
    {
        while (i < text.Length)
        {
            var k = Cls(text, i, out var w);
            if (!InLowerSet(k)) break;
            i += w;
        }
        return i;
    }

    /// <summary><c>(?i:'s|'t|'re|'ve|'m|'ll|'d)?</c> after a word.</summary>
    static int WithContraction(ReadOnlySpan<char> text, int end)
    {
        if (end < text.Length && text[end] == '\'')
        {
            var c = Cl100kPreTokenizer.CaseInsensitiveContractionEnd(text, end);
            if (c > 0) return c;
        }
        return end;
    }
}

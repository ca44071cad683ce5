namespace Farabi.Tokenizers.PreTokenizers;

/// <summary>
/// cl100k_base's pattern (GPT-3.5/GPT-4), hand-compiled over code points:
/// <c>'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s</c>.
/// Unlike GPT-2 it lets any one non-letter (a space, a tab, a ZWNJ, a bracket) lead a word, caps
/// digit runs at three, and keeps runs of newlines apart from the spaces before a word.
/// </summary>
sealed class Cl100kPreTokenizer : PreTokenizer
{
    public override string Name => "cl100k_base";

    public override string? Pattern => Patterns.Cl100k;

    public override int PieceEnd(ReadOnlySpan<char> text, int start)
    {
        var c = text[start];
        if (c == '\'')
        {
            var contraction = CaseInsensitiveContractionEnd(text, start);
            if (contraction > 0) return contraction;
        }
        var k = Classify(text, start, out var w);
        if (k == CharClass.Letter) return RunEnd(text, start + w, CharClass.Letter);
        // [^\r\n\p{L}\p{N}]?+\p{L}++ : one space, tab or symbol may lead a word.
        if (k is CharClass.Other or CharClass.Space && start + w < text.Length)
        {
            if (Classify(text, start + w, out var w2) == CharClass.Letter) return RunEnd(text, start + w + w2, CharClass.Letter);
        }
        if (k == CharClass.Number)
        {
            var i = start + w;
            for (var n = 1; n < 3 && i < text.Length; n++)
            {
                if (Classify(text, i, out var wn) != CharClass.Number) break;
                i += wn;
            }
            return i;
        }
        // ' ?[^\s\p{L}\p{N}]++[\r\n]*+'
        var j = -1;
        if (k == CharClass.Other) j = start + w;
        else if (c == ' ' && start + 1 < text.Length && Classify(text, start + 1, out var w3) == CharClass.Other) j = start + 1 + w3;
        if (j >= 0)
        {
            while (j < text.Length)
            {
                var kj = Classify(text, j, out var wj);
                if (kj != CharClass.Other) break;
                j += wj;
            }
            while (j < text.Length && text[j] is '\r' or '\n') j++;
            return j;
        }
        return NewlineAwareWhitespaceEnd(text, start, trailingRunWhole: true);
    }

    /// <summary><c>'(?i:[sdmt]|ll|ve|re)</c>; 0 when none starts at <paramref name="start"/>.</summary>
    internal static int CaseInsensitiveContractionEnd(ReadOnlySpan<char> text, int start)
    {
        if (start + 1 >= text.Length) return 0;
        var d = FoldAscii(text[start + 1]);
        if (d is 's' or 'd' or 'm' or 't') return start + 2;
        if (start + 2 < text.Length)
        {
            var e = FoldAscii(text[start + 2]);
            if ((d == 'l' && e == 'l') || (d == 'v' && e == 'e') || (d == 'r' && e == 'e')) return start + 3;
        }
        return 0;
    }

    /// <summary>Case folding as the regex's <c>(?i)</c> does it for these letters (ſ folds to s).</summary>
    internal static char FoldAscii(char c) => c is >= 'A' and <= 'Z' ? (char)(c + 32) : c == '\u017F' ? 's' : c;
}

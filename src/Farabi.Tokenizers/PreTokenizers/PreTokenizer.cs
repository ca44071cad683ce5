using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Farabi.Tokenizers.PreTokenizers;

/// <summary>
/// Splits text into pieces that byte-pair merges never cross. Pieces tile the text: every character
/// belongs to exactly one piece, in order, so a caller walks them with <see cref="PieceEnd"/> and
/// slices the span it already has (no allocation per piece).
/// </summary>
public abstract class PreTokenizer
{
    /// <summary>A short name used in saved vocabularies and on the command line (e.g. "gpt2").</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Returns the exclusive end of the piece that starts at <paramref name="start"/>.
    /// <paramref name="start"/> is less than <c>text.Length</c>; the result is greater than it.
    /// </summary>
    public abstract int PieceEnd(ReadOnlySpan<char> text, int start);

    /// <summary>The pieces of <paramref name="text"/> as strings (convenient, allocating; for tests and tools).</summary>
    public List<string> Split(string text)
    {
        var pieces = new List<string>();
        for (var i = 0; i < text.Length;)
        {
            var end = PieceEnd(text, i);
            pieces.Add(text[i..end]);
            i = end;
        }
        return pieces;
    }

    /// <summary>
    /// The regular expression this pre-tokenizer implements, as tiktoken and HF <c>tokenizer.json</c>
    /// write it (used to export and recognise vocabularies); null when it has no regex form.
    /// </summary>
    public virtual string? Pattern => null;

    /// <summary>GPT-2's pattern (also r50k/p50k): contractions, letters, numbers, other symbols, whitespace.</summary>
    public static PreTokenizer Gpt2 { get; } = new Gpt2PreTokenizer();

    /// <summary>cl100k_base's pattern (GPT-3.5/4): case-insensitive contractions, digits in threes, newline runs kept apart.</summary>
    public static PreTokenizer Cl100k { get; } = new Cl100kPreTokenizer();

    /// <summary>o200k_base's pattern (GPT-4o): words split at case changes, marks inside words, contractions attached.</summary>
    public static PreTokenizer O200k { get; } = new O200kPreTokenizer();

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, PreTokenizer> Registry = new(StringComparer.Ordinal)
    {
        ["gpt2"] = Gpt2, ["r50k_base"] = Gpt2, ["p50k_base"] = Gpt2, ["cl100k_base"] = Cl100k, ["o200k_base"] = O200k, ["persian"] = PersianPreTokenizer.Instance,
    };

    /// <summary>Makes <paramref name="preTokenizer"/> known by its <see cref="Name"/> to <see cref="FromName"/> (saved vocabularies name it).</summary>
    public static void Register(PreTokenizer preTokenizer) => Registry[preTokenizer.Name] = preTokenizer;

    /// <summary>The pre-tokenizer saved vocabularies call <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the known ones.</summary>
    public static PreTokenizer FromName(string name) => Registry.TryGetValue(name, out var p) ? p
        : throw new KeyNotFoundException($"unknown pre-tokenizer '{name}'; known: {string.Join(", ", Registry.Keys.Order(StringComparer.Ordinal))}.");

    /// <summary>The registered pre-tokenizer whose regex is <paramref name="pattern"/> (tiktoken's current or earlier spelling), or null.</summary>
    public static PreTokenizer? FromPattern(string pattern)
    {
        if (Patterns.Aliases.TryGetValue(pattern, out var name)) return FromName(name);
        foreach (var p in Registry.Values) if (p.Pattern == pattern) return p;
        return null;
    }

    /// <summary>Character classes of the regular expressions these pre-tokenizers hand-compile.</summary>
    protected internal enum CharClass : byte { Letter, Number, Space, Other, Newline }

    static readonly CharClass[] AsciiClass = BuildAsciiTable();

    static CharClass[] BuildAsciiTable()
    {
        var t = new CharClass[128];
        for (var c = 0; c < 128; c++)
        {
            t[c] = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' ? CharClass.Letter
                : c is >= '0' and <= '9' ? CharClass.Number
                : c is '\r' or '\n' ? CharClass.Newline
                : c is ' ' or '\t' or '\v' or '\f' ? CharClass.Space
                : CharClass.Other;
        }
        return t;
    }

    /// <summary>
    /// Classifies the code point at <paramref name="i"/> (decoding surrogate pairs, so characters
    /// outside the Basic Multilingual Plane are classified as the Unicode character they are) and
    /// returns its width in UTF-16 units.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected internal static CharClass Classify(ReadOnlySpan<char> text, int i, out int width)
    {
        var c = text[i];
        if (c < 128) { width = 1; return AsciiClass[c]; }
        var k = BmpClass[c];
        if (k != SurrogateMark) { width = 1; return (CharClass)k; }
        return ClassifySlow(text, i, out width);
    }

    /// <summary>Marks surrogates in a table built by <see cref="BuildBmpTable"/>: they need their pair.</summary>
    protected internal const byte SurrogateMark = 0xFF;

    // Every BMP character's class, computed once (64 KB): Persian, CJK and other non-ASCII text then
    // classifies with one load instead of a Unicode category lookup.
    static readonly byte[] BmpClass = BuildBmpTable(c => (byte)(c < 128 ? AsciiClass[c] : ClassOf(c)));

    /// <summary>
    /// A 64 KB table of <paramref name="classOf"/> for every BMP character, with <see cref="SurrogateMark"/> at
    /// surrogates; the pre-tokenizers with finer classes (o200k) build theirs the same way.
    /// </summary>
    protected internal static byte[] BuildBmpTable(Func<int, byte> classOf)
    {
        var t = new byte[65536];
        for (var c = 0; c < 65536; c++) t[c] = char.IsSurrogate((char)c) ? SurrogateMark : classOf(c);
        return t;
    }

    /// <summary>The code point at <paramref name="i"/> (a surrogate pair decoded, a lone surrogate as itself) and its UTF-16 width.</summary>
    protected internal static int CodePointAt(ReadOnlySpan<char> text, int i, out int width)
    {
        var c = text[i];
        if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, text[i + 1]);
        }
        width = 1;
        return c;
    }

    /// <summary>
    /// Whitespace as the reference vectors (js-tiktoken) define \s: Unicode White_Space except U+0085 (NEL),
    /// which JavaScript's \s leaves out; .NET's char.IsWhiteSpace includes it. All of it is in the BMP.
    /// </summary>
    protected internal static bool IsPatternSpace(int codePoint) => codePoint < 0x10000 && codePoint != 0x85 && char.IsWhiteSpace((char)codePoint);

    static CharClass ClassifySlow(ReadOnlySpan<char> text, int i, out int width) => ClassOf(CodePointAt(text, i, out width));

    static CharClass ClassOf(int codePoint)
    {
        if (IsPatternSpace(codePoint)) return CharClass.Space;
        var cat = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        return cat switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
            _ => CharClass.Other,
        };
    }

    /// <summary>
    /// GPT-2's case-sensitive contractions <c>'s|'t|'re|'ve|'m|'ll|'d</c>: the end of the one at
    /// <paramref name="start"/>, or -1 when none starts there.
    /// </summary>
    protected internal static int ContractionEnd(ReadOnlySpan<char> text, int start)
    {
        if (text[start] != '\'' || start + 1 >= text.Length) return -1;
        var d = text[start + 1];
        if (d is 's' or 't' or 'm' or 'd') return start + 2;
        if (start + 2 < text.Length)
        {
            var e = text[start + 2];
            if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return start + 3;
        }
        return -1;
    }

    /// <summary>The end of the run of characters of class <paramref name="cls"/> starting at <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected internal static int RunEnd(ReadOnlySpan<char> text, int i, CharClass cls)
    {
        while (i < text.Length)
        {
            var k = Classify(text, i, out var w);
            if (k != cls) break;
            i += w;
        }
        return i;
    }

    /// <summary>True for the classes that regex <c>\s</c> matches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected internal static bool IsSpace(CharClass k) => k is CharClass.Space or CharClass.Newline;

    /// <summary>
    /// The whitespace alternatives of cl100k and o200k: <c>(\s++$)?|\s*[\r\n]+|\s+(?!\S)|\s+</c>.
    /// A run that holds a newline ends after its last newline (the spaces after it lead the next
    /// word); otherwise it behaves as <see cref="WhitespaceEnd"/>. With <paramref name="trailingRunWhole"/>
    /// (cl100k's <c>\s++$</c>) a run that reaches the end of the text is one piece.
    /// </summary>
    protected internal static int NewlineAwareWhitespaceEnd(ReadOnlySpan<char> text, int start, bool trailingRunWhole)
    {
        var end = start;
        var last = start;
        var lastNewline = -1;
        while (end < text.Length)
        {
            var c = text[end];
            if (c is '\r' or '\n') lastNewline = end;
            else if (!IsSpace(Classify(text, end, out _))) break;
            last = end;
            end++; // every White_Space character is in the Basic Multilingual Plane
        }
        if (end == text.Length && (trailingRunWhole || lastNewline < 0)) return end;
        if (lastNewline >= 0) return lastNewline + 1;
        return last == start ? end : last;
    }

    /// <summary>
    /// The shared tail of every pattern: <c>\s+(?!\S)|\s+</c>. A run of whitespace followed by a
    /// non-space gives up its last character, which then leads the next piece.
    /// </summary>
    protected internal static int WhitespaceEnd(ReadOnlySpan<char> text, int start)
    {
        var end = start;
        var last = start;
        while (end < text.Length)
        {
            var k = Classify(text, end, out var w);
            if (!IsSpace(k)) break;
            last = end;
            end += w;
        }
        if (end == text.Length || last == start) return end;
        return last;
    }

    /// <summary>GPT-2's pattern adapted to Persian: ZWNJ and vowel marks stay inside words (<see cref="PersianPreTokenizer"/>).</summary>
    public static PreTokenizer Persian => PersianPreTokenizer.Instance;
}

/// <summary>
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, hand-compiled
/// over code points.
/// </summary>
sealed class Gpt2PreTokenizer : PreTokenizer
{
    public override string Name => "gpt2";

    public override string? Pattern => Patterns.Gpt2;

    public override int PieceEnd(ReadOnlySpan<char> text, int start)
    {
        var c = text[start];
        if (ContractionEnd(text, start) is var contraction and > 0) return contraction;
        var i = start;
        var k = Classify(text, i, out var w);
        if (c == ' ' && i + 1 < text.Length)
        {
            var k2 = Classify(text, i + 1, out var w2);
            if (!IsSpace(k2)) { i += 1; k = k2; w = w2; }
        }
        return k switch
        {
            CharClass.Letter or CharClass.Number => RunEnd(text, i + w, k),
            CharClass.Other => RunEnd(text, i + w, CharClass.Other),
            _ => WhitespaceEnd(text, start),
        };
    }
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Farabi.Tokenizers.Normalizers;

/// <summary>How Arabic-Indic, Persian and ASCII digits are written after normalization.</summary>
public enum PersianDigits
{
    /// <summary>Arabic-Indic digits (٠-٩) become Persian digits (۰-۹); ASCII digits stay ASCII.</summary>
    Unify,
    /// <summary>Every digit (ASCII, Arabic-Indic) becomes a Persian digit ۰-۹.</summary>
    Persian,
    /// <summary>Every digit (Persian, Arabic-Indic) becomes an ASCII digit 0-9.</summary>
    Latin,
    /// <summary>Digits are left as written.</summary>
    Keep,
}

/// <summary>What becomes of teh marbuta (ة, U+0629), which Persian writes in Arabic loanwords.</summary>
public enum TehMarbutaStyle
{
    /// <summary>Left as written: it is a distinct letter in loanwords such as «دائرة‌المعارف».</summary>
    Keep,
    /// <summary>Written as heh (ه), as most Persian spellings do (e.g. «کلمة» → «کلمه»).</summary>
    ToHeh,
}

/// <summary>
/// How the ezafe after a silent heh is spelled: one letter ۀ (U+06C0) or heh + hamza above
/// (ه U+0647 + ٔ U+0654); both are common and look the same.
/// </summary>
public enum HehYehStyle
{
    /// <summary>Left as written.</summary>
    Keep,
    /// <summary>heh + hamza above (هٔ) becomes ۀ.</summary>
    Compose,
    /// <summary>ۀ becomes heh + hamza above (هٔ).</summary>
    Decompose,
}

/// <summary>Settings of <see cref="PersianNormalizer"/>; the defaults are safe for any Persian text.</summary>
public sealed record PersianNormalizerOptions
{
    /// <summary>Arabic yeh ي (U+064A) and alef maksura ى (U+0649) → Persian yeh ی; Arabic kaf ك → Persian keheh ک.</summary>
    public bool UnifyArabicLetters { get; init; } = true;

    /// <summary>Teh marbuta ة: kept (default) or written as heh.</summary>
    public TehMarbutaStyle TehMarbuta { get; init; } = TehMarbutaStyle.Keep;

    /// <summary>ۀ versus هٔ: kept (default), composed or decomposed.</summary>
    public HehYehStyle HehYeh { get; init; } = HehYehStyle.Keep;

    /// <summary>
    /// Removes the vowel marks Persian usually leaves unwritten: tanwin (ً ٌ ٍ), fatha, damma, kasra
    /// (َ ُ ِ), shadda (ّ), sukun (ْ) and superscript alef (ٰ). Hamza above (ٔ) stays: it is spelling
    /// (the ezafe in «خانهٔ»), not vocalisation. Off by default because poetry and the Quran keep them.
    /// </summary>
    public bool RemoveDiacritics { get; init; }

    /// <summary>Removes kashida (tatweel, ـ U+0640), which only stretches letters for justification.</summary>
    public bool RemoveKashida { get; init; } = true;

    /// <summary>How digits are written (default: Arabic-Indic → Persian, ASCII kept).</summary>
    public PersianDigits Digits { get; init; } = PersianDigits.Unify;

    /// <summary>
    /// Cleans the zero-width non-joiner (ZWNJ, U+200C): a run becomes one, and one that does not sit
    /// between two letters (next to a space, a digit, punctuation or the text's edges) is removed.
    /// Also removes the invisible characters that copy-paste leaves behind: zero-width space, BOM,
    /// left-to-right/right-to-left marks and bidi embedding controls.
    /// </summary>
    public bool CleanZwnj { get; init; } = true;

    /// <summary>
    /// Replaces the space that is often typed instead of a ZWNJ: after the verb prefixes «می»/«نمی»
    /// («می خواهم» → «می‌خواهم»), before the plural «ها» and its forms («کتاب ها» → «کتاب‌ها»),
    /// before the comparative «تر»/«ترین»/«تری», and before «ای»/«ام»/«اید»/«ایم» after a
    /// silent heh in a word of three or more letters («خانه ای» → «خانه‌ای», «رفته ام» → «رفته‌ام»;
    /// the length rule leaves the vocative in «که ای دوست» alone). Off by default: «می» (wine)
    /// and «تر» (wet) are also words of their own, mostly in poetry.
    /// </summary>
    public bool JoinAffixes { get; init; }

    /// <summary>
    /// Turns no-break and other Unicode spaces and tabs into a plain space, collapses runs of spaces,
    /// removes spaces at the ends of lines, turns CR LF into LF, keeps at most one empty line
    /// between paragraphs, and trims the text.
    /// </summary>
    public bool CleanWhitespace { get; init; } = true;

    /// <summary>
    /// The canonical name of these settings: "persian", followed by ":key=value,..." for each setting that
    /// differs from the default (keys: arabic-letters, teh-marbuta, heh-yeh, diacritics, kashida, digits,
    /// zwnj, affixes, whitespace).
    /// </summary>
    public string ToName()
    {
        var d = new PersianNormalizerOptions();
        var parts = new List<string>();
        if (UnifyArabicLetters != d.UnifyArabicLetters) parts.Add($"arabic-letters={(UnifyArabicLetters ? "unify" : "keep")}");
        if (TehMarbuta != d.TehMarbuta) parts.Add($"teh-marbuta={(TehMarbuta == TehMarbutaStyle.ToHeh ? "heh" : "keep")}");
        if (HehYeh != d.HehYeh) parts.Add($"heh-yeh={HehYeh.ToString().ToLowerInvariant()}");
        if (RemoveDiacritics != d.RemoveDiacritics) parts.Add($"diacritics={(RemoveDiacritics ? "remove" : "keep")}");
        if (RemoveKashida != d.RemoveKashida) parts.Add($"kashida={(RemoveKashida ? "remove" : "keep")}");
        if (Digits != d.Digits) parts.Add($"digits={Digits.ToString().ToLowerInvariant()}");
        if (CleanZwnj != d.CleanZwnj) parts.Add($"zwnj={(CleanZwnj ? "clean" : "keep")}");
        if (JoinAffixes != d.JoinAffixes) parts.Add($"affixes={(JoinAffixes ? "join" : "keep")}");
        if (CleanWhitespace != d.CleanWhitespace) parts.Add($"whitespace={(CleanWhitespace ? "clean" : "keep")}");
        return parts.Count == 0 ? "persian" : "persian:" + string.Join(',', parts);
    }

    /// <summary>Parses a name written by <see cref="ToName"/> (settings in any order).</summary>
    /// <exception cref="ArgumentException">An unknown key or value.</exception>
    public static PersianNormalizerOptions Parse(string name)
    {
        var o = new PersianNormalizerOptions();
        if (name == "persian") return o;
        if (!name.StartsWith("persian:", StringComparison.Ordinal))
            throw new ArgumentException($"'{name}' is not a Persian normalizer name.", nameof(name));
        foreach (var part in name["persian:".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            var key = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            o = (key, value) switch
            {
                ("arabic-letters", "unify" or "keep") => o with { UnifyArabicLetters = value == "unify" },
                ("teh-marbuta", "heh" or "keep") => o with { TehMarbuta = value == "heh" ? TehMarbutaStyle.ToHeh : TehMarbutaStyle.Keep },
                ("heh-yeh", "keep" or "compose" or "decompose") => o with { HehYeh = Enum.Parse<HehYehStyle>(value, ignoreCase: true) },
                ("diacritics", "remove" or "keep") => o with { RemoveDiacritics = value == "remove" },
                ("kashida", "remove" or "keep") => o with { RemoveKashida = value == "remove" },
                ("digits", "unify" or "persian" or "latin" or "keep") => o with { Digits = Enum.Parse<PersianDigits>(value, ignoreCase: true) },
                ("zwnj", "clean" or "keep") => o with { CleanZwnj = value == "clean" },
                ("affixes", "join" or "keep") => o with { JoinAffixes = value == "join" },
                ("whitespace", "clean" or "keep") => o with { CleanWhitespace = value == "clean" },
                _ => throw new ArgumentException($"Unknown Persian normalizer setting '{part}' in '{name}'.", nameof(name)),
            };
        }
        return o;
    }
}

/// <summary>
/// Normalizes Persian text: one spelling for letters that Arabic keyboards and Persian keyboards
/// type differently, optional removal of vowel marks, one form of digits, clean zero-width
/// non-joiners and whitespace. Fars News and many web sources use Arabic ي/ك, so without this a
/// vocabulary learns two tokens for every word that contains them.
/// </summary>
public sealed partial class PersianNormalizer : Normalizer
{
    /// <summary>The normalizer with default settings (name "persian").</summary>
    public static PersianNormalizer Default { get; } = new(new PersianNormalizerOptions());

    /// <summary>The settings.</summary>
    public PersianNormalizerOptions Options { get; }

    readonly string name;

    // What MapCharacters does with each character below U+0700 (Latin, Arabic script, digits):
    // the replacement, Remove, or Decompose (ۀ → ه + ٔ). Characters above are handled case by case.
    const int Remove = -1, Decompose = -2, TableSize = 0x0700;
    readonly int[] table = new int[TableSize];

    /// <summary>Creates a normalizer with <paramref name="options"/> (defaults when null).</summary>
    public PersianNormalizer(PersianNormalizerOptions? options = null)
    {
        Options = options ?? new PersianNormalizerOptions();
        name = Options.ToName();
        var o = Options;
        for (var c = 0; c < TableSize; c++) table[c] = c;
        if (o.UnifyArabicLetters)
        {
            table['\u064A'] = table['\u0649'] = '\u06CC'; // ي ى → ی
            table['\u0643'] = '\u06A9';                   // ك → ک
        }
        if (o.TehMarbuta == TehMarbutaStyle.ToHeh) table['\u0629'] = '\u0647';
        if (o.HehYeh == HehYehStyle.Decompose) table['\u06C0'] = Decompose;
        if (o.RemoveDiacritics)
        {
            for (var c = '\u064B'; c <= '\u0652'; c++) table[c] = Remove;
            table['\u0670'] = Remove;
        }
        if (o.RemoveKashida) table['\u0640'] = Remove;
        if (o.CleanWhitespace) table['\u00A0'] = table['\t'] = ' ';
        for (var d = 0; d < 10; d++)
        {
            int ascii = '0' + d, arabic = '\u0660' + d, persian = '\u06F0' + d;
            switch (o.Digits)
            {
                case PersianDigits.Unify: table[arabic] = persian; break;
                case PersianDigits.Persian: table[arabic] = table[ascii] = persian; break;
                case PersianDigits.Latin: table[arabic] = table[persian] = ascii; break;
            }
        }
    }

    /// <inheritdoc/>
    public override string Name => name;

    const char Zwnj = '\u200C';

    /// <inheritdoc/>
    public override string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Every pass after the first only removes characters, so they all work in place in one buffer.
        var buffer = new char[Options.HehYeh == HehYehStyle.Decompose ? 2 * text.Length : text.Length];
        var n = MapCharacters(text, buffer);
        if (Options.CleanZwnj) n = CleanZwnj(buffer, n);
        if (Options.CleanWhitespace) n = CleanWhitespace(buffer, n);
        var s = new string(buffer, 0, n);
        if (Options.JoinAffixes) s = JoinAffixes(s);
        // Last, so that a heh and hamza brought together by removing marks between them compose too.
        if (Options.HehYeh == HehYehStyle.Compose) s = s.Replace("\u0647\u0654", "\u06C0", StringComparison.Ordinal);
        return s;
    }

    /// <summary>Character-by-character replacements and removals (letters, marks, digits, invisible controls, spaces).</summary>
    int MapCharacters(string text, char[] output)
    {
        var o = Options;
        var n = 0;
        foreach (var c in text)
        {
            if (c < TableSize)
            {
                var m = table[c];
                if (m >= 0) output[n++] = (char)m;
                else if (m == Decompose) { output[n++] = '\u0647'; output[n++] = '\u0654'; }
                continue;
            }
            switch (c)
            {
                case '\u200B' or '\uFEFF' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') when o.CleanZwnj:
                    continue;
                case '\u202F' or '\u205F' or '\u3000' or (>= '\u2000' and <= '\u200A') when o.CleanWhitespace:
                    output[n++] = ' ';
                    continue;
                default:
                    output[n++] = c;
                    continue;
            }
        }
        return n;
    }

    /// <summary>True for characters that make up a word: letters and combining marks (Persian vowel marks are Mn).</summary>
    static bool IsWordChar(char c)
    {
        if (c < 128) return char.IsAsciiLetter(c);
        var cat = CharUnicodeInfo.GetUnicodeCategory(c);
        return cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
    }

    /// <summary>Keeps one ZWNJ between two word characters; drops runs' extras and ZWNJs at word edges. In place.</summary>
    static int CleanZwnj(char[] s, int length)
    {
        if (s.AsSpan(0, length).IndexOf(Zwnj) < 0) return length;
        var n = 0;
        for (var i = 0; i < length; i++)
        {
            if (s[i] != Zwnj) { s[n++] = s[i]; continue; }
            var end = i;
            while (end < length && s[end] == Zwnj) end++;
            // Keep one only when a word character sits on both sides of the run.
            if (n > 0 && IsWordChar(s[n - 1]) && end < length && IsWordChar(s[end])) s[n++] = Zwnj;
            i = end - 1;
        }
        return n;
    }

    /// <summary>Collapses spaces, trims lines and the text, CR LF → LF, at most one empty line in a row. In place.</summary>
    static int CleanWhitespace(char[] s, int length)
    {
        var n = 0;
        var newlines = 0;       // consecutive line breaks just read
        var pendingSpace = false;
        for (var i = 0; i < length; i++)
        {
            var c = s[i];
            if (c == '\r')
            {
                if (i + 1 < length && s[i + 1] == '\n') continue; // CR LF → LF
                c = '\n';
            }
            if (c is '\u0085' or '\u2028' or '\u2029') c = '\n';
            if (c == '\n')
            {
                pendingSpace = false; // spaces at the end of a line go
                if (n > 0 && newlines < 2) s[n++] = '\n';
                newlines++;
                continue;
            }
            if (c is ' ' or '\v' or '\f')
            {
                // Spaces at the start of a line or of the text go; others collapse into one.
                if (n > 0 && newlines == 0) pendingSpace = true;
                continue;
            }
            if (pendingSpace) s[n++] = ' ';
            pendingSpace = false;
            newlines = 0;
            s[n++] = c;
        }
        while (n > 0 && s[n - 1] == '\n') n--; // trailing line breaks go with the trim
        return n;
    }

    // The verb prefixes «می»/«نمی» as a word of their own, followed by a space and an Arabic-script
    // letter ([\u0600-\u06FF-[\P{L}]]: the Arabic block minus everything that is not a letter, so not a digit).
    [GeneratedRegex(@"(?<![\p{L}\p{M}\u200C])(ن?می) (?=[\u0600-\u06FF-[\P{L}]])")]
    private static partial Regex PrefixSpace();

    // The plural «ها» (with its possessive and indefinite forms) and the comparative «تر», «ترین»,
    // «تری» written as words of their own after an Arabic-script letter.
    [GeneratedRegex(@"(?<=[\u0600-\u06FF-[\P{L}]]) (هایشان|هایتان|هایمان|هایی|هایم|هایت|هایش|های|ها|ترین|تری|تر)(?![\p{L}\p{M}\u200C])")]
    private static partial Regex SuffixSpace();

    // «ای»/«ام»/«اید»/«ایم» after a word of three or more letters that ends in a silent heh.
    [GeneratedRegex(@"(?<=(?<![\p{L}\p{M}\u200C])[\p{L}\p{M}\u200C]{2,}ه) (ای|ام|اید|ایم)(?![\p{L}\p{M}\u200C])")]
    private static partial Regex HehSuffixSpace();

    static string JoinAffixes(string s)
    {
        s = PrefixSpace().Replace(s, "$1\u200C");
        s = SuffixSpace().Replace(s, "\u200C$1");
        s = HehSuffixSpace().Replace(s, "\u200C$1");
        return s;
    }
}

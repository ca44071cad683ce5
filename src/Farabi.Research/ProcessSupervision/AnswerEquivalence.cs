using System.Text.RegularExpressions;

namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// Decides whether two final answers are the same. Numbers compare by exact value, whatever their
/// spelling: "1/2" = "0.5" = "\frac{1}{2}" = "\dfrac12", "3.0" = "3", "1,000" = "1000", "-2" = "−2".
/// Everything else compares as text after the normalisation of Hendrycks et al.'s MATH grader:
/// <c>$</c>, <c>\text{}</c>, <c>\left</c>/<c>\right</c>, spacing commands, degree signs and all whitespace
/// are removed, and a short assignment "x = 5" keeps its right side.
/// <para>
/// Percent: following that grader, a percent sign is dropped, so "50%" equals "50", not "0.5". Answers
/// to "what percent ..." are written as the percentage; reading "50%" as 0.5 would make it equal to an
/// answer of 0.5 percent's question too, a worse mistake.
/// </para>
/// <para>
/// Equivalence goes through <see cref="CanonicalKey"/>, so it is transitive and usable as a grouping
/// key for majority voting. Decimals are exact: "0.333" is not "1/3".
/// </para>
/// </summary>
public static partial class AnswerEquivalence
{
    /// <summary>True when both answers are present and have the same <see cref="CanonicalKey"/>.</summary>
    public static bool AreEquivalent(string? a, string? b)
    {
        var ka = CanonicalKey(a);
        return ka != null && ka == CanonicalKey(b);
    }

    /// <summary>
    /// A string equal for equivalent answers: "num:p/q" (reduced fraction) for numbers, "text:..." for
    /// the normalised text of anything else, null for a missing or empty answer.
    /// </summary>
    public static string? CanonicalKey(string? answer)
    {
        if (answer == null) return null;
        // Voting over many resampled subsets asks for the same few keys millions of times.
        if (KeyCache.TryGetValue(answer, out var cached)) return cached;
        var key = ComputeKey(answer);
        if (KeyCache.Count > 100_000) KeyCache.Clear();
        KeyCache[answer] = key;
        return key;
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> KeyCache = new();

    static string? ComputeKey(string answer)
    {
        var s = Normalize(answer);
        if (s.Length == 0) return null;
        return TryParseNumber(s, out var v) ? $"num:{v.Numerator}/{v.Denominator}" : "text:" + s;
    }

    /// <summary>The exact value of a numeric answer ("1,000", "-0.5", "3/4", "\frac{3}{4}", "50\%"), if it is one.</summary>
    public static bool TryGetValue(string? answer, out Rational value)
    {
        value = default;
        return answer != null && TryParseNumber(Normalize(answer), out value);
    }

    /// <summary>The MATH-style normalisation described on the class.</summary>
    public static string Normalize(string answer)
    {
        var s = answer.Trim();
        s = s.Replace('−', '-').Replace('–', '-');
        s = TextCommand().Replace(s, "$1");
        s = s.Replace("\\left", "").Replace("\\right", "");
        s = s.Replace("\\!", "").Replace("\\,", "").Replace("\\;", "").Replace("\\:", "").Replace("\\ ", "");
        s = s.Replace("\\dfrac", "\\frac").Replace("\\tfrac", "\\frac");
        s = s.Replace("^{\\circ}", "").Replace("^\\circ", "").Replace("°", "");
        s = s.Replace("\\%", "").Replace("%", "").Replace("\\$", "").Replace("$", "");
        s = Whitespace().Replace(s, "");
        s = s.TrimEnd('.');
        // "x=5" or "k=5" → "5": a short name on the left is the question's unknown, not part of the answer.
        var eq = s.IndexOf('=');
        if (eq is > 0 and <= 2 && s.IndexOf('=', eq + 1) < 0) s = s[(eq + 1)..];
        s = FracArguments().Replace(s, m =>
            $"\\frac{{{(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)}}}{{{(m.Groups[3].Success ? m.Groups[3].Value : m.Groups[4].Value)}}}");
        return s;
    }

    static bool TryParseNumber(string s, out Rational value)
    {
        value = default;
        if (s.Length == 0) return false;
        if (ThousandsNumber().IsMatch(s)) s = s.Replace(",", "");
        if (Rational.TryParseDecimal(s, out value)) return true;
        var negative = false;
        var body = s;
        if (body.StartsWith('-')) { negative = true; body = body[1..]; }
        var m = LatexFrac().Match(body);
        if (m.Success)
        {
            if (!Rational.TryParseDecimal(m.Groups[1].Value, out var num) || !Rational.TryParseDecimal(m.Groups[2].Value, out var den) || den.Numerator.IsZero) return false;
            value = negative ? -(num / den) : num / den;
            return true;
        }
        var slash = body.IndexOf('/');
        if (slash > 0 && Rational.TryParseDecimal(body.AsSpan(0, slash), out var n) && Rational.TryParseDecimal(body.AsSpan(slash + 1), out var d) && !d.Numerator.IsZero)
        {
            value = negative ? -(n / d) : n / d;
            return true;
        }
        return false;
    }

    [GeneratedRegex(@"\\(?:text|textbf|mathrm|mbox|mathbf)\s*\{([^{}]*)\}")]
    private static partial Regex TextCommand();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    // \frac12 or \frac1{2} or \frac{1}2 → braces around single-character arguments.
    [GeneratedRegex(@"\\frac(?:\{([^{}]*)\}|([0-9a-zA-Z]))(?:\{([^{}]*)\}|([0-9a-zA-Z]))")]
    private static partial Regex FracArguments();

    [GeneratedRegex(@"^\\frac\{([^{}]+)\}\{([^{}]+)\}$")]
    private static partial Regex LatexFrac();

    [GeneratedRegex(@"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")]
    private static partial Regex ThousandsNumber();
}

namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// Finds the final answer in a solution written in one of the formats the field uses: Farabi's
/// built-in format (<c>answer: 42</c>), GSM8K's (<c>#### 1,234</c>) and MATH's (<c>\boxed{\frac{1}{2}}</c>).
/// The answer comes back as written (trimmed); compare answers with <see cref="AnswerEquivalence"/>.
/// </summary>
public static class AnswerExtractor
{
    /// <summary>
    /// The text after the first line that starts with <c>answer:</c> (any case), or null. The first one
    /// counts because a sample should stop at its answer; what follows is rambling.
    /// </summary>
    public static string? FromAnswerLine(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("answer:", StringComparison.OrdinalIgnoreCase)) return line["answer:".Length..].Trim();
        }
        return null;
    }

    /// <summary>GSM8K: the text after the last <c>####</c>, with thousands separators removed ("1,000" → "1000"), or null.</summary>
    public static string? FromGsm8k(string text)
    {
        var i = text.LastIndexOf("####", StringComparison.Ordinal);
        if (i < 0) return null;
        var rest = text[(i + 4)..];
        var end = rest.IndexOf('\n');
        if (end >= 0) rest = rest[..end];
        return rest.Trim().Replace(",", "");
    }

    /// <summary>
    /// MATH: the contents of the last <c>\boxed{...}</c> or <c>\fbox{...}</c> (nested braces matched), or of
    /// <c>\boxed 5</c> written without braces; null when there is none or its braces never close.
    /// </summary>
    public static string? FromBoxed(string text)
    {
        var start = Math.Max(text.LastIndexOf("\\boxed", StringComparison.Ordinal), text.LastIndexOf("\\fbox", StringComparison.Ordinal));
        if (start < 0) return null;
        var i = start + (text.AsSpan(start).StartsWith("\\boxed") ? 6 : 5);
        if (i < text.Length && text[i] == ' ')
        {
            // "\boxed 5" — the argument runs to the next space or '$'.
            var j = i + 1;
            while (j < text.Length && text[j] is not (' ' or '$' or '\n')) j++;
            return j > i + 1 ? text[(i + 1)..j] : null;
        }
        if (i >= text.Length || text[i] != '{') return null;
        var depth = 0;
        for (var j = i; j < text.Length; j++)
        {
            if (text[j] == '{') depth++;
            else if (text[j] == '}' && --depth == 0) return text[(i + 1)..j].Trim();
        }
        return null;
    }

    /// <summary>The answer in whichever format the text uses: answer line, then <c>####</c>, then <c>\boxed</c>.</summary>
    public static string? Extract(string text) => FromAnswerLine(text) ?? FromGsm8k(text) ?? FromBoxed(text);
}

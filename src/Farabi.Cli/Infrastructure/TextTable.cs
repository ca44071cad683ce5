using System.Text;

namespace Farabi.Cli;

/// <summary>A small table of results: aligned text for the terminal, Markdown for <c>report.md</c>.</summary>
public sealed class TextTable(params string[] headers)
{
    readonly List<string[]> _rows = [];

    public IReadOnlyList<string> Headers { get; } = headers;

    public TextTable Add(params object?[] cells)
    {
        if (cells.Length != Headers.Count) throw new ArgumentException($"a row has {cells.Length} cells, the table {Headers.Count} columns.");
        _rows.Add(cells.Select(Format).ToArray());
        return this;
    }

    static string Format(object? v) => v switch
    {
        null => "",
        double d => d.ToString(Math.Abs(d) >= 100 ? "F1" : Math.Abs(d) >= 1 ? "F3" : "F4", System.Globalization.CultureInfo.InvariantCulture),
        float f => Format((double)f),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    int[] Widths() => Headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();

    /// <summary>Aligned plain text, numbers right-aligned.</summary>
    public string ToText()
    {
        var w = Widths();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join("  ", Headers.Select((h, i) => h.PadRight(w[i]))).TrimEnd());
        sb.AppendLine(string.Join("  ", w.Select(x => new string('-', x))));
        foreach (var r in _rows)
            sb.AppendLine(string.Join("  ", r.Select((c, i) => IsNumber(c) ? c.PadLeft(w[i]) : c.PadRight(w[i]))).TrimEnd());
        return sb.ToString();
    }

    /// <summary>A GitHub-flavoured Markdown table.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", Headers) + " |");
        sb.AppendLine("|" + string.Join("|", Headers.Select((_, i) => _rows.Count > 0 && IsNumber(_rows[0][i]) ? "---:" : "---")) + "|");
        foreach (var r in _rows) sb.AppendLine("| " + string.Join(" | ", r.Select(c => c.Replace("|", "\\|"))) + " |");
        return sb.ToString();
    }

    static bool IsNumber(string s) => double.TryParse(s.TrimEnd('%', '×', 'x'), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
}

using System.Globalization;
using SkiaSharp;

namespace Farabi.Cli.Plots;

/// <summary>
/// A matrix as coloured cells with row and column labels and a colour bar: confusion matrices
/// (rows = true class, columns = predicted) and image–text similarity matrices. Row 0 is at the top.
/// <code>
/// var map = new Heatmap { Title = "confusion", XLabel = "predicted", YLabel = "true", RowLabels = names, ColumnLabels = names };
/// map.SetValues(counts);   // double[rows, columns]
/// map.SavePng("confusion.png");
/// </code>
/// </summary>
public sealed class Heatmap : Chart
{
    double[,] _values = new double[0, 0];

    /// <summary>Labels of the rows, top to bottom (empty: none).</summary>
    public IReadOnlyList<string> RowLabels { get; init; } = [];

    /// <summary>Labels of the columns, left to right (empty: none).</summary>
    public IReadOnlyList<string> ColumnLabels { get; init; } = [];

    /// <summary>Value mapped to the darkest colour; the data minimum when null.</summary>
    public double? Min { get; init; }

    /// <summary>Value mapped to the brightest colour; the data maximum when null.</summary>
    public double? Max { get; init; }

    /// <summary>Write each value in its cell when cells are large enough.</summary>
    public bool Annotate { get; init; } = true;

    /// <summary>.NET format of annotations and colour-bar ticks, e.g. "0.00" or "0".</summary>
    public string ValueFormat { get; init; } = "0.##";

    /// <summary>Sets the matrix (rows x columns).</summary>
    public Heatmap SetValues(double[,] values)
    {
        if (values.GetLength(0) == 0 || values.GetLength(1) == 0) throw new ArgumentException("a heatmap needs at least one row and one column.");
        _values = (double[,])values.Clone();
        return this;
    }

    /// <summary>Sets the matrix from rows of equal length.</summary>
    public Heatmap SetValues(IReadOnlyList<IReadOnlyList<double>> rows)
    {
        if (rows.Count == 0 || rows[0].Count == 0) throw new ArgumentException("a heatmap needs at least one row and one column.");
        var m = new double[rows.Count, rows[0].Count];
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].Count != rows[0].Count) throw new ArgumentException($"heatmap row {r} has {rows[r].Count} values, row 0 has {rows[0].Count}.");
            for (var c = 0; c < rows[r].Count; c++) m[r, c] = rows[r][c];
        }
        _values = m;
        return this;
    }

    // Viridis (matplotlib), sampled at 9 evenly spaced points and interpolated linearly: perceptually
    // ordered dark purple -> yellow, so the brightest cell is the largest value.
    static readonly (byte R, byte G, byte B)[] Viridis =
    [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ];

    /// <summary>The colour of fraction <paramref name="t"/> in [0, 1] along the colour map.</summary>
    public static SKColor ColourAt(double t)
    {
        if (!double.IsFinite(t)) return new SKColor(200, 200, 200);
        t = Math.Clamp(t, 0, 1) * (Viridis.Length - 1);
        var i = Math.Min((int)t, Viridis.Length - 2);
        var f = t - i;
        byte Lerp(byte a, byte b) => (byte)Math.Round(a + (b - a) * f);
        return new SKColor(Lerp(Viridis[i].R, Viridis[i + 1].R), Lerp(Viridis[i].G, Viridis[i + 1].G), Lerp(Viridis[i].B, Viridis[i + 1].B));
    }

    private protected override void Draw(ChartGraphics g)
    {
        int rows = _values.GetLength(0), cols = _values.GetLength(1);
        if (rows == 0) throw new InvalidOperationException("a heatmap needs values (SetValues).");
        if (RowLabels.Count is not 0 && RowLabels.Count != rows) throw new ArgumentException($"the heatmap has {rows} rows but {RowLabels.Count} row labels.");
        if (ColumnLabels.Count is not 0 && ColumnLabels.Count != cols) throw new ArgumentException($"the heatmap has {cols} columns but {ColumnLabels.Count} column labels.");
        var finite = _values.Cast<double>().Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double lo = Min ?? finite.Min(), hi = Max ?? finite.Max();
        if (hi - lo < 1e-12) hi = lo + 1;

        const float font = XYFrame.FontSize;
        var rowLabelWidth = RowLabels.Select(l => g.MeasureText(l, font)).DefaultIfEmpty(0).Max();
        var colLabelWidth = ColumnLabels.Select(l => g.MeasureText(l, font)).DefaultIfEmpty(0).Max();
        var left = 12 + (string.IsNullOrEmpty(YLabel) ? 0 : font + 12) + rowLabelWidth + 8;
        var top = string.IsNullOrEmpty(Title) ? 16f : 44f;
        const float barArea = 90;
        var plotRight = Width - barArea;
        var cellW = (plotRight - left) / cols;
        // Column labels turn vertical when they would not fit side by side.
        var rotateColumns = colLabelWidth > cellW - 4;
        var colLabelHeight = ColumnLabels.Count == 0 ? 0 : rotateColumns ? colLabelWidth + 10 : font + 10;
        var bottom = Height - (string.IsNullOrEmpty(XLabel) ? 12f : 34f) - colLabelHeight;
        var plot = new SKRect(left, top, plotRight, bottom);
        PlotArea = plot;
        var cellH = plot.Height / rows;
        cellW = plot.Width / cols;

        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
            {
                var cell = new SKRect(plot.Left + c * cellW, plot.Top + r * cellH, plot.Left + (c + 1) * cellW, plot.Top + (r + 1) * cellH);
                var colour = ColourAt((_values[r, c] - lo) / (hi - lo));
                g.FillRect(cell, colour);
                var annotationSize = Math.Min(font, cellH * 0.45f);
                if (Annotate && cellW >= 26 && cellH >= 16 && double.IsFinite(_values[r, c]))
                {
                    var text = _values[r, c].ToString(ValueFormat, CultureInfo.InvariantCulture);
                    if (g.MeasureText(text, annotationSize) < cellW - 4)
                    {
                        // Light text on the dark half of the map, dark text on the bright half.
                        var luminance = 0.299 * colour.Red + 0.587 * colour.Green + 0.114 * colour.Blue;
                        g.Text(text, cell.MidX, cell.MidY + annotationSize * 0.35f, annotationSize, SKTextAlign.Center, luminance < 128 ? SKColors.White : SKColors.Black);
                    }
                }
            }
        var ink = new SKColor(60, 60, 60);
        g.StrokeRect(plot, ink);
        for (var r = 0; r < RowLabels.Count; r++)
            g.Text(RowLabels[r], plot.Left - 6, plot.Top + (r + 0.5f) * cellH + font * 0.35f, font, SKTextAlign.Right, ink);
        for (var c = 0; c < ColumnLabels.Count; c++)
        {
            var cx = plot.Left + (c + 0.5f) * cellW;
            if (rotateColumns) g.Text(ColumnLabels[c], cx + font * 0.35f, plot.Bottom + 6, font, SKTextAlign.Right, ink, rotate: true);
            else g.Text(ColumnLabels[c], cx, plot.Bottom + font + 4, font, SKTextAlign.Center, ink);
        }
        g.Text(Title, Width / 2f, 28, 17, SKTextAlign.Center, SKColors.Black, bold: true);
        g.Text(XLabel, (plot.Left + plot.Right) / 2, Height - 12, font + 1, SKTextAlign.Center, ink);
        g.Text(YLabel, 12 + font, (plot.Top + plot.Bottom) / 2, font + 1, SKTextAlign.Center, ink, rotate: true);

        // Colour bar: a vertical gradient with ticks of the value range.
        var bar = new SKRect(plotRight + 18, plot.Top, plotRight + 36, plot.Bottom);
        for (var y = (int)bar.Top; y < (int)bar.Bottom; y++)
            g.FillRect(new SKRect(bar.Left, y, bar.Right, y + 1), ColourAt(1 - (y - bar.Top) / bar.Height));
        g.StrokeRect(bar, ink);
        var axis = new Axis(AxisScale.Linear, [lo, hi], padFraction: 0);
        foreach (var (v, label) in axis.Ticks())
        {
            if (v < lo - 1e-9 || v > hi + 1e-9) continue;
            var y = (float)(bar.Bottom - (v - lo) / (hi - lo) * bar.Height);
            g.Line(bar.Right, y, bar.Right + 4, y, ink, 1, antialias: false);
            g.Text(label, bar.Right + 7, y + font * 0.35f, font - 1, SKTextAlign.Left, ink);
        }
    }
}

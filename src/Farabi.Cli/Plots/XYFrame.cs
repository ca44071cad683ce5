using SkiaSharp;

namespace Farabi.Cli.Plots;

/// <summary>An entry of a legend: its name, colour and how it is drawn.</summary>
internal readonly record struct LegendEntry(string Name, SKColor Colour, LegendMark Mark);

internal enum LegendMark { Line, Box, Dot }

/// <summary>
/// The frame of an x-y chart: the plot rectangle after margins for title, labels and tick labels; the
/// data-to-pixel mapping; grid, axes, ticks, labels and legend.
/// </summary>
internal sealed class XYFrame
{
    public Axis X { get; }
    public Axis Y { get; }
    public SKRect Plot { get; }
    public const float FontSize = 13;

    /// <summary>Labels for x positions 0..n-1 (bar charts), drawn instead of numeric ticks.</summary>
    readonly IReadOnlyList<string>? _xCategories;

    public XYFrame(ChartGraphics g, Chart chart, Axis x, Axis y, IReadOnlyList<string>? xCategories = null)
    {
        X = x;
        Y = y;
        _xCategories = xCategories;
        var yTickWidth = y.Ticks().Select(t => g.MeasureText(t.Label, FontSize)).DefaultIfEmpty(0).Max();
        var left = 12 + (string.IsNullOrEmpty(chart.YLabel) ? 0 : FontSize + 10) + yTickWidth + 8;
        var top = string.IsNullOrEmpty(chart.Title) ? 16f : 44f;
        var bottom = chart.Height - (string.IsNullOrEmpty(chart.XLabel) ? 34f : 56f);
        var right = chart.Width - 24f;
        Plot = new SKRect(left, top, right, bottom);
    }

    public float PixelX(double v) => (float)(Plot.Left + X.Fraction(v) * Plot.Width);
    public float PixelY(double v) => (float)(Plot.Bottom - Y.Fraction(v) * Plot.Height);

    /// <summary>Pixel x of category i's centre when the x-axis holds categories.</summary>
    public float CategoryX(int i) => (float)(Plot.Left + (i + 0.5) / _xCategories!.Count * Plot.Width);

    public void DrawBackground(ChartGraphics g, Chart chart)
    {
        var grid = new SKColor(225, 225, 225);
        foreach (var (v, _) in Y.Ticks()) g.Line(Plot.Left, PixelY(v), Plot.Right, PixelY(v), grid, 1, antialias: false);
        if (_xCategories == null)
            foreach (var (v, _) in X.Ticks()) g.Line(PixelX(v), Plot.Top, PixelX(v), Plot.Bottom, grid, 1, antialias: false);
    }

    public void DrawAxes(ChartGraphics g, Chart chart)
    {
        var ink = new SKColor(60, 60, 60);
        g.StrokeRect(Plot, ink);
        foreach (var (v, label) in Y.Ticks())
        {
            var py = PixelY(v);
            g.Line(Plot.Left - 4, py, Plot.Left, py, ink, 1, antialias: false);
            g.Text(label, Plot.Left - 7, py + FontSize * 0.35f, FontSize, SKTextAlign.Right, ink);
        }
        if (_xCategories != null)
            for (var i = 0; i < _xCategories.Count; i++)
                g.Text(_xCategories[i], CategoryX(i), Plot.Bottom + FontSize + 6, FontSize, SKTextAlign.Center, ink);
        else
            foreach (var (v, label) in X.Ticks())
            {
                var px = PixelX(v);
                g.Line(px, Plot.Bottom, px, Plot.Bottom + 4, ink, 1, antialias: false);
                g.Text(label, px, Plot.Bottom + FontSize + 6, FontSize, SKTextAlign.Center, ink);
            }
        g.Text(chart.Title, chart.Width / 2f, 28, 17, SKTextAlign.Center, SKColors.Black, bold: true);
        g.Text(chart.XLabel, (Plot.Left + Plot.Right) / 2, chart.Height - 14, FontSize + 1, SKTextAlign.Center, ink);
        g.Text(chart.YLabel, 12 + FontSize, (Plot.Top + Plot.Bottom) / 2, FontSize + 1, SKTextAlign.Center, ink, rotate: true);
    }

    const float LegendRow = FontSize + 7, LegendPad = 8, LegendMarkWidth = 22;

    /// <summary>Where <see cref="DrawLegend"/> puts the legend (empty when there is none), so that labels can keep clear of it.</summary>
    public SKRect LegendBox(ChartGraphics g, IReadOnlyList<LegendEntry> entries, LegendPosition position)
    {
        if (entries.Count == 0 || position == LegendPosition.None) return SKRect.Empty;
        var width = LegendPad * 2 + LegendMarkWidth + 6 + entries.Max(e => g.MeasureText(e.Name, FontSize));
        var height = LegendPad * 2 + LegendRow * entries.Count - 4;
        var left = position is LegendPosition.TopLeft or LegendPosition.BottomLeft ? Plot.Left + 10 : Plot.Right - 10 - width;
        var top = position is LegendPosition.TopLeft or LegendPosition.TopRight ? Plot.Top + 10 : Plot.Bottom - 10 - height;
        return new SKRect(left, top, left + width, top + height);
    }

    /// <summary>A legend box in the chosen corner of the plot.</summary>
    public void DrawLegend(ChartGraphics g, IReadOnlyList<LegendEntry> entries, LegendPosition position)
    {
        if (entries.Count == 0 || position == LegendPosition.None) return;
        const float row = LegendRow, pad = LegendPad, mark = LegendMarkWidth;
        var box = LegendBox(g, entries, position);
        var (left, top) = (box.Left, box.Top);
        g.FillRect(box, new SKColor(255, 255, 255, 230));
        g.StrokeRect(box, new SKColor(190, 190, 190));
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var cy = top + pad + i * row + row / 2 - 3;
            switch (e.Mark)
            {
                case LegendMark.Line: g.Line(left + pad, cy, left + pad + mark, cy, e.Colour, 2.5f); break;
                case LegendMark.Box: g.FillRect(new SKRect(left + pad + 4, cy - 6, left + pad + mark - 4, cy + 6), e.Colour); break;
                default: g.Circle(left + pad + mark / 2, cy, 5, e.Colour); break;
            }
            g.Text(e.Name, left + pad + mark + 6, cy + FontSize * 0.35f, FontSize, SKTextAlign.Left, new SKColor(30, 30, 30));
        }
    }
}

/// <summary>Where the legend sits inside the plot.</summary>
public enum LegendPosition { TopRight, TopLeft, BottomRight, BottomLeft, None }

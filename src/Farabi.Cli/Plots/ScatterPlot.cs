using SkiaSharp;

namespace Farabi.Cli.Plots;

/// <summary>
/// Labelled points, coloured by group: e.g. accuracy against trainable parameters (log x) for LoRA ranks.
/// <code>
/// var plot = new ScatterPlot { Title = "accuracy vs parameters", XScale = AxisScale.Log10 };
/// plot.Add(12_288, 0.81, label: "r=4", group: "LoRA");
/// plot.SavePng("scatter.png");
/// </code>
/// </summary>
public sealed class ScatterPlot : Chart
{
    sealed record Point(double X, double Y, string? Label, string Group);

    readonly List<Point> _points = [];

    /// <summary>Scale of the x-axis.</summary>
    public AxisScale XScale { get; init; } = AxisScale.Linear;

    /// <summary>Scale of the y-axis.</summary>
    public AxisScale YScale { get; init; } = AxisScale.Linear;

    /// <summary>Where the legend goes (shown when there is more than one group).</summary>
    public LegendPosition Legend { get; init; } = LegendPosition.BottomRight;

    /// <summary>Adds a point; <paramref name="label"/> is written beside it, <paramref name="group"/> picks its colour.</summary>
    public ScatterPlot Add(double x, double y, string? label = null, string group = "")
    {
        if (!double.IsFinite(x) || !double.IsFinite(y)) throw new ArgumentException($"a scatter point needs finite coordinates, not ({x}, {y}).");
        _points.Add(new Point(x, y, label, group));
        return this;
    }

    private protected override void Draw(ChartGraphics g)
    {
        if (_points.Count == 0) throw new InvalidOperationException("a scatter plot needs at least one point.");
        var groups = _points.Select(p => p.Group).Distinct().ToList();
        SKColor ColourOf(string grp) => Palette[groups.IndexOf(grp) % Palette.Count];
        var frame = new XYFrame(g, this, new Axis(XScale, _points.Select(p => p.X), padFraction: 0.08), new Axis(YScale, _points.Select(p => p.Y), padFraction: 0.08));
        PlotArea = frame.Plot;
        frame.DrawBackground(g, this);
        foreach (var p in _points)
        {
            float px = frame.PixelX(p.X), py = frame.PixelY(p.Y);
            g.Circle(px, py, 6, ColourOf(p.Group), SKColors.White);
            if (!string.IsNullOrEmpty(p.Label)) g.Text(p.Label, px + 9, py - 7, XYFrame.FontSize - 1, SKTextAlign.Left, new SKColor(50, 50, 50));
        }
        frame.DrawAxes(g, this);
        if (groups.Count > 1 || groups[0] != "")
            frame.DrawLegend(g, groups.Select(n => new LegendEntry(n == "" ? "(none)" : n, ColourOf(n), LegendMark.Dot)).ToList(), Legend);
    }
}

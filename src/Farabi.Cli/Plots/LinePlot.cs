using SkiaSharp;

namespace Farabi.Cli.Plots;

/// <summary>
/// Named series as lines, each optionally with a shaded band (e.g. a 95% interval): loss curves,
/// best-of-N curves on a log2 x-axis.
/// <code>
/// var plot = new LinePlot { Title = "best-of-N", XLabel = "N", YLabel = "solved", XScale = AxisScale.Log2 };
/// plot.Add("PRM", [1, 2, 4, 8], [0.30, 0.38, 0.45, 0.50], lower: [...], upper: [...]);
/// plot.SavePng("runs/x/best-of-n.png");
/// </code>
/// </summary>
public sealed class LinePlot : Chart
{
    sealed record Series(string Name, double[] X, double[] Y, double[]? Lower, double[]? Upper, SKColor Colour);

    readonly List<Series> _series = [];

    /// <summary>Scale of the x-axis.</summary>
    public AxisScale XScale { get; init; } = AxisScale.Linear;

    /// <summary>Scale of the y-axis.</summary>
    public AxisScale YScale { get; init; } = AxisScale.Linear;

    /// <summary>Draw a dot at every point (useful for few points).</summary>
    public bool Markers { get; init; } = true;

    /// <summary>Where the legend goes.</summary>
    public LegendPosition Legend { get; init; } = LegendPosition.TopRight;

    /// <summary>
    /// Names of ordered categories on the x-axis (e.g. model sizes, smallest first): series then give x as the category
    /// index 0..n-1, and the names are drawn instead of numeric ticks.
    /// </summary>
    public IReadOnlyList<string>? XCategories { get; init; }

    /// <summary>
    /// Adds a series. <paramref name="lower"/> and <paramref name="upper"/>, when given, bound a shaded band
    /// (both or neither, same length as <paramref name="x"/>). Points with a non-finite y are skipped.
    /// </summary>
    public LinePlot Add(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<double>? lower = null, IReadOnlyList<double>? upper = null)
    {
        if (x.Count != y.Count) throw new ArgumentException($"series \"{name}\" has {x.Count} x values but {y.Count} y values.");
        if ((lower is null) != (upper is null)) throw new ArgumentException($"series \"{name}\" needs both band bounds or neither.");
        if (lower != null && (lower.Count != x.Count || upper!.Count != x.Count))
            throw new ArgumentException($"the band of series \"{name}\" must have {x.Count} lower and upper values.");
        _series.Add(new Series(name, x.ToArray(), y.ToArray(), lower?.ToArray(), upper?.ToArray(), Palette[_series.Count % Palette.Count]));
        return this;
    }

    /// <summary>Adds a series with x = 1, 2, ... (steps).</summary>
    public LinePlot Add(string name, IReadOnlyList<double> y) => Add(name, Enumerable.Range(1, y.Count).Select(i => (double)i).ToArray(), y);

    private protected override void Draw(ChartGraphics g)
    {
        if (_series.Count == 0) throw new InvalidOperationException("a line plot needs at least one series.");
        var xs = _series.SelectMany(s => s.X);
        var ys = _series.SelectMany(s => s.Y.Concat(s.Lower ?? []).Concat(s.Upper ?? []));
        // With categories, the axis spans [-0.5, n-0.5] unpadded so that index i lands on category i's centre.
        var frame = XCategories is { Count: > 0 } categories
            ? new XYFrame(g, this, new Axis(AxisScale.Linear, [-0.5, categories.Count - 0.5], padFraction: 0), new Axis(YScale, ys), categories)
            : new XYFrame(g, this, new Axis(XScale, xs), new Axis(YScale, ys));
        PlotArea = frame.Plot;
        frame.DrawBackground(g, this);
        g.Canvas.Save();
        g.Canvas.ClipRect(frame.Plot);
        foreach (var s in _series.Where(s => s.Lower != null))
        {
            var top = new List<SKPoint>();
            var bottom = new List<SKPoint>();
            for (var i = 0; i < s.X.Length; i++)
            {
                if (!double.IsFinite(s.Lower![i]) || !double.IsFinite(s.Upper![i])) continue;
                top.Add(new SKPoint(frame.PixelX(s.X[i]), frame.PixelY(s.Upper[i])));
                bottom.Add(new SKPoint(frame.PixelX(s.X[i]), frame.PixelY(s.Lower[i])));
            }
            bottom.Reverse();
            g.Polygon([.. top, .. bottom], s.Colour.WithAlpha(56));
        }
        foreach (var s in _series)
        {
            var points = Enumerable.Range(0, s.X.Length).Where(i => double.IsFinite(s.Y[i]))
                .Select(i => new SKPoint(frame.PixelX(s.X[i]), frame.PixelY(s.Y[i]))).ToList();
            g.Polyline(points, s.Colour, 2.5f);
            if (Markers && points.Count <= 60) foreach (var p in points) g.Circle(p.X, p.Y, 3.5f, s.Colour);
        }
        g.Canvas.Restore();
        frame.DrawAxes(g, this);
        frame.DrawLegend(g, _series.Select(s => new LegendEntry(s.Name, s.Colour, LegendMark.Line)).ToList(), Legend);
    }
}

using SkiaSharp;

namespace Farabi.Cli.Plots;

/// <summary>
/// Grouped bars: one group per category along x, one bar per series inside each group, optional error
/// bars. E.g. weak / weak-to-strong / ceiling accuracy per model pair.
/// <code>
/// var chart = new BarChart { Title = "weak-to-strong", YLabel = "accuracy", Categories = ["S→M", "S→L"] };
/// chart.Add("weak", [0.61, 0.61]).Add("weak→strong", [0.68, 0.72]).Add("ceiling", [0.75, 0.81]);
/// chart.SavePng("w2s.png");
/// </code>
/// </summary>
public sealed class BarChart : Chart
{
    sealed record Series(string Name, double[] Values, double[]? Errors, SKColor Colour);

    readonly List<Series> _series = [];

    /// <summary>The groups along the x-axis.</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Where the legend goes.</summary>
    public LegendPosition Legend { get; init; } = LegendPosition.TopLeft;

    /// <summary>Adds one bar per category; <paramref name="errors"/> are half-widths drawn as whiskers.</summary>
    public BarChart Add(string name, IReadOnlyList<double> values, IReadOnlyList<double>? errors = null)
    {
        if (values.Count != Categories.Count) throw new ArgumentException($"series \"{name}\" has {values.Count} values for {Categories.Count} categories.");
        if (errors != null && errors.Count != values.Count) throw new ArgumentException($"series \"{name}\" has {errors.Count} error values for {values.Count} bars.");
        _series.Add(new Series(name, values.ToArray(), errors?.ToArray(), Palette[_series.Count % Palette.Count]));
        return this;
    }

    private protected override void Draw(ChartGraphics g)
    {
        if (_series.Count == 0 || Categories.Count == 0) throw new InvalidOperationException("a bar chart needs categories and at least one series.");
        var ys = _series.SelectMany(s => s.Values.Select((v, i) => v + (s.Errors?[i] ?? 0)).Concat(s.Values.Select((v, i) => v - (s.Errors?[i] ?? 0))));
        var frame = new XYFrame(g, this, new Axis(AxisScale.Linear, [0, 1]), new Axis(AxisScale.Linear, ys, includeZero: true), Categories);
        PlotArea = frame.Plot;
        frame.DrawBackground(g, this);
        var groupWidth = frame.Plot.Width / Categories.Count;
        var barWidth = groupWidth * 0.8f / _series.Count;
        for (var c = 0; c < Categories.Count; c++)
            for (var s = 0; s < _series.Count; s++)
            {
                var series = _series[s];
                var v = series.Values[c];
                if (!double.IsFinite(v)) continue;
                var left = frame.Plot.Left + c * groupWidth + groupWidth * 0.1f + s * barWidth;
                float y0 = frame.PixelY(0), y1 = frame.PixelY(v);
                g.FillRect(new SKRect(left + 1, Math.Min(y0, y1), left + barWidth - 1, Math.Max(y0, y1)), series.Colour);
                if (series.Errors is { } e && double.IsFinite(e[c]) && e[c] > 0)
                {
                    var cx = left + barWidth / 2;
                    float lo = frame.PixelY(v - e[c]), hi = frame.PixelY(v + e[c]);
                    var ink = new SKColor(40, 40, 40);
                    g.Line(cx, lo, cx, hi, ink, 1.5f);
                    g.Line(cx - 4, lo, cx + 4, lo, ink, 1.5f);
                    g.Line(cx - 4, hi, cx + 4, hi, ink, 1.5f);
                }
            }
        frame.DrawAxes(g, this);
        frame.DrawLegend(g, _series.Select(s => new LegendEntry(s.Name, s.Colour, LegendMark.Box)).ToList(), Legend);
    }
}

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

    const float PointRadius = 6;

    private protected override void Draw(ChartGraphics g)
    {
        if (_points.Count == 0) throw new InvalidOperationException("a scatter plot needs at least one point.");
        var groups = _points.Select(p => p.Group).Distinct().ToList();
        SKColor ColourOf(string grp) => Palette[groups.IndexOf(grp) % Palette.Count];
        var frame = new XYFrame(g, this, new Axis(XScale, _points.Select(p => p.X), padFraction: 0.08), new Axis(YScale, _points.Select(p => p.Y), padFraction: 0.08));
        PlotArea = frame.Plot;
        frame.DrawBackground(g, this);
        var legend = groups.Count > 1 || groups[0] != ""
            ? groups.Select(n => new LegendEntry(n == "" ? "(none)" : n, ColourOf(n), LegendMark.Dot)).ToList()
            : [];
        var pixels = _points.Select(p => new SKPoint(frame.PixelX(p.X), frame.PixelY(p.Y))).ToList();
        const float labelSize = XYFrame.FontSize - 1;
        var labelled = Enumerable.Range(0, _points.Count).Where(i => !string.IsNullOrEmpty(_points[i].Label)).ToList();
        var boxes = PlaceLabels(pixels, labelled.Select(i => (i, new SKSize(g.MeasureText(_points[i].Label!, labelSize), labelSize * 1.25f))).ToList(),
            frame.Plot, [frame.LegendBox(g, legend, Legend)]);
        var ink = new SKColor(50, 50, 50);
        // Leader lines first, so that points and text sit on top of them.
        foreach (var (i, box) in boxes)
            if (!NearPoint(box, pixels[i])) g.Line(pixels[i].X, pixels[i].Y, Math.Clamp(pixels[i].X, box.Left, box.Right), Math.Clamp(pixels[i].Y, box.Top, box.Bottom), new SKColor(150, 150, 150), 1);
        for (var i = 0; i < _points.Count; i++) g.Circle(pixels[i].X, pixels[i].Y, PointRadius, ColourOf(_points[i].Group), SKColors.White);
        foreach (var (i, box) in boxes) g.Text(_points[i].Label!, box.Left, box.Top + labelSize * 0.95f, labelSize, SKTextAlign.Left, ink);
        frame.DrawAxes(g, this);
        frame.DrawLegend(g, legend, Legend);
    }

    static bool NearPoint(SKRect box, SKPoint p) => Distance(box, p) <= PointRadius + 6;

    static float Distance(SKRect box, SKPoint p)
    {
        var dx = Math.Max(0, Math.Max(box.Left - p.X, p.X - box.Right));
        var dy = Math.Max(0, Math.Max(box.Top - p.Y, p.Y - box.Bottom));
        return MathF.Sqrt(dx * dx + dy * dy);
    }

    /// <summary>
    /// Places a label box of the given size next to each labelled point (index into <paramref name="points"/>): the
    /// first spot, nearest first, that stays inside <paramref name="bounds"/> and overlaps no other label, no point
    /// and no <paramref name="obstacles"/> box (the legend). Points close together get labels further out (a leader
    /// line then joins them); when nothing fits, the spot with the least overlap wins.
    /// </summary>
    internal static List<(int Index, SKRect Box)> PlaceLabels(IReadOnlyList<SKPoint> points, IReadOnlyList<(int Index, SKSize Size)> labels, SKRect bounds,
        IReadOnlyList<SKRect> obstacles)
    {
        const float gap = PointRadius + 3;
        var placed = new List<(int, SKRect)>();
        var dots = points.Select(p => new SKRect(p.X - PointRadius - 1, p.Y - PointRadius - 1, p.X + PointRadius + 1, p.Y + PointRadius + 1)).ToList();
        // Left to right, so that a crowded cluster fills outwards from one side.
        foreach (var (index, size) in labels.OrderBy(l => points[l.Index].X).ThenBy(l => points[l.Index].Y))
        {
            var p = points[index];
            SKRect best = default;
            var bestOverlap = float.MaxValue;
            foreach (var box in Candidates(p, size, gap))
            {
                var overlap = Outside(box, bounds) * 4;
                foreach (var (_, other) in placed) overlap += Overlap(box, other) * 2;
                foreach (var o in obstacles) overlap += Overlap(box, o);
                foreach (var d in dots) overlap += Overlap(box, d);
                if (overlap < bestOverlap - 1e-3f)
                {
                    (best, bestOverlap) = (box, overlap);
                    if (overlap <= 0) break;
                }
            }
            placed.Add((index, best));
        }
        return placed;
    }

    /// <summary>Spots around <paramref name="p"/>, nearest first: right, left, above, below, then the same further out.</summary>
    static IEnumerable<SKRect> Candidates(SKPoint p, SKSize size, float gap)
    {
        var (w, h) = (size.Width, size.Height);
        for (var ring = 0; ring < 8; ring++)
        {
            var d = gap + ring * h;
            yield return SKRect.Create(p.X + d, p.Y - h / 2, w, h);          // right
            yield return SKRect.Create(p.X + d, p.Y - h - ring * h / 2, w, h); // right, up
            yield return SKRect.Create(p.X + d, p.Y + ring * h / 2, w, h);     // right, down
            yield return SKRect.Create(p.X - d - w, p.Y - h / 2, w, h);        // left
            yield return SKRect.Create(p.X - d - w, p.Y - h - ring * h / 2, w, h);
            yield return SKRect.Create(p.X - d - w, p.Y + ring * h / 2, w, h);
            yield return SKRect.Create(p.X - w / 2, p.Y - d - h, w, h);        // above
            yield return SKRect.Create(p.X - w / 2, p.Y + d, w, h);            // below
        }
    }

    static float Overlap(SKRect a, SKRect b)
    {
        var w = Math.Min(a.Right, b.Right) - Math.Max(a.Left, b.Left);
        var h = Math.Min(a.Bottom, b.Bottom) - Math.Max(a.Top, b.Top);
        return w > 0 && h > 0 ? w * h : 0;
    }

    static float Outside(SKRect box, SKRect bounds) => box.Width * box.Height - Overlap(box, bounds);
}

using SkiaSharp;

namespace Farabi.Cli.Plots;

/// <summary>
/// Drawing helpers shared by the charts: text with a font found through fontconfig (or none at all —
/// then text is skipped and sized by estimate, so a machine without fonts still gets its charts), lines,
/// rectangles and polygons.
/// </summary>
internal sealed class ChartGraphics(SKCanvas canvas) : IDisposable
{
    public SKCanvas Canvas { get; } = canvas;

    /// <summary>The typeface for all chart text, or null where the machine has no usable font.</summary>
    static readonly Lazy<SKTypeface?> DefaultTypeface = new(FindTypeface);

    /// <summary>Tests set this to simulate a machine without fonts (per thread, so parallel tests do not see it).</summary>
    [ThreadStatic] internal static bool DisableFonts;

    static SKTypeface? FindTypeface()
    {
        try
        {
            foreach (var family in new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "sans-serif" })
            {
                var t = SKTypeface.FromFamilyName(family);
                if (t is { GlyphCount: > 0 }) return t;
            }
            foreach (var file in new[] { "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf" })
                if (File.Exists(file) && SKTypeface.FromFile(file) is { GlyphCount: > 0 } t) return t;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            // No font manager at all: charts are drawn without text.
        }
        return null;
    }

    SKTypeface? Typeface => DisableFonts ? null : DefaultTypeface.Value;

    /// <summary>Width of <paramref name="text"/> in pixels at <paramref name="size"/>.</summary>
    public float MeasureText(string text, float size)
    {
        if (Typeface is not { } tf) return 0.55f * size * text.Length;
        using var font = new SKFont(tf, size);
        return font.MeasureText(text);
    }

    /// <summary>Draws text with its baseline at y; <paramref name="rotate"/> turns it 90° anticlockwise about (x, y).</summary>
    public void Text(string text, float x, float y, float size, SKTextAlign align = SKTextAlign.Left, SKColor? colour = null, bool bold = false, bool rotate = false)
    {
        if (string.IsNullOrEmpty(text) || Typeface is not { } tf) return;
        using var font = new SKFont(tf, size) { Embolden = bold, Edging = SKFontEdging.Antialias };
        using var paint = new SKPaint { Color = colour ?? SKColors.Black, IsAntialias = true };
        if (rotate)
        {
            Canvas.Save();
            Canvas.RotateDegrees(-90, x, y);
            Canvas.DrawText(text, x, y, align, font, paint);
            Canvas.Restore();
        }
        else Canvas.DrawText(text, x, y, align, font, paint);
    }

    public void Line(float x0, float y0, float x1, float y1, SKColor colour, float width = 1, bool antialias = true)
    {
        using var paint = new SKPaint { Color = colour, StrokeWidth = width, IsAntialias = antialias, Style = SKPaintStyle.Stroke };
        Canvas.DrawLine(x0, y0, x1, y1, paint);
    }

    public void Polyline(IReadOnlyList<SKPoint> points, SKColor colour, float width)
    {
        if (points.Count < 2) return;
        using var path = BuildPath(points, close: false);
        using var paint = new SKPaint { Color = colour, StrokeWidth = width, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeJoin = SKStrokeJoin.Round, StrokeCap = SKStrokeCap.Round };
        Canvas.DrawPath(path, paint);
    }

    public void Polygon(IReadOnlyList<SKPoint> points, SKColor fill)
    {
        if (points.Count < 3) return;
        using var path = BuildPath(points, close: true);
        using var paint = new SKPaint { Color = fill, IsAntialias = true, Style = SKPaintStyle.Fill };
        Canvas.DrawPath(path, paint);
    }

    static SKPath BuildPath(IReadOnlyList<SKPoint> points, bool close)
    {
        using var builder = new SKPathBuilder();
        builder.MoveTo(points[0]);
        for (var i = 1; i < points.Count; i++) builder.LineTo(points[i]);
        if (close) builder.Close();
        return builder.Detach();
    }

    public void FillRect(SKRect rect, SKColor fill, bool antialias = false)
    {
        using var paint = new SKPaint { Color = fill, IsAntialias = antialias, Style = SKPaintStyle.Fill };
        Canvas.DrawRect(rect, paint);
    }

    public void StrokeRect(SKRect rect, SKColor colour, float width = 1)
    {
        using var paint = new SKPaint { Color = colour, StrokeWidth = width, IsAntialias = false, Style = SKPaintStyle.Stroke };
        Canvas.DrawRect(rect, paint);
    }

    public void Circle(float x, float y, float radius, SKColor fill, SKColor? outline = null)
    {
        using var paint = new SKPaint { Color = fill, IsAntialias = true, Style = SKPaintStyle.Fill };
        Canvas.DrawCircle(x, y, radius, paint);
        if (outline is { } o)
        {
            using var stroke = new SKPaint { Color = o, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
            Canvas.DrawCircle(x, y, radius, stroke);
        }
    }

    public void Dispose() { }
}

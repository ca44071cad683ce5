using Farabi.Tokenizers;
using Farabi.Vision;
using SkiaSharp;

namespace Farabi.Cli.Plots;

/// <summary>How an axis maps data to pixels.</summary>
public enum AxisScale
{
    /// <summary>Evenly spaced values.</summary>
    Linear,
    /// <summary>Powers of two evenly spaced (best-of-N, batch sizes); values must be positive.</summary>
    Log2,
    /// <summary>Powers of ten evenly spaced (parameter counts); values must be positive.</summary>
    Log10,
}

/// <summary>
/// What every chart shares: a size, a title and axis labels, rendering to pixels and to a PNG file
/// written atomically. Subclasses draw their data; the frame (axes, ticks, grid, legend) is shared.
/// </summary>
public abstract class Chart
{
    /// <summary>Image width in pixels.</summary>
    public int Width { get; init; } = 800;

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; } = 500;

    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label under the x-axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label beside the y-axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Draws the chart and returns its pixels.</summary>
    public RgbImage Render()
    {
        using var bitmap = RenderBitmap();
        return ImageFile.FromBitmap(bitmap);
    }

    /// <summary>Writes the chart as a PNG, atomically (temporary file, then rename).</summary>
    public void SavePng(string path)
    {
        using var bitmap = RenderBitmap();
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100) ?? throw new InvalidOperationException("SkiaSharp failed to encode a PNG.");
        AtomicFile.WriteBytes(path, data.AsSpan());
    }

    SKBitmap RenderBitmap()
    {
        if (Width < 100 || Height < 80 || Width > 8000 || Height > 8000)
            throw new ArgumentException($"a chart must be between 100x80 and 8000x8000 pixels, not {Width}x{Height}.");
        var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var g = new ChartGraphics(canvas);
        Draw(g);
        canvas.Flush();
        return bitmap;
    }

    /// <summary>The data area of the last rendering, in pixels (tests check where data landed).</summary>
    internal SKRect PlotArea { get; private protected set; }

    /// <summary>Draws the whole chart.</summary>
    private protected abstract void Draw(ChartGraphics g);

    /// <summary>Series colours: the ten of matplotlib's "tab10", distinct and colour-blind friendly enough.</summary>
    public static IReadOnlyList<SKColor> Palette { get; } =
    [
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189),
        new(140, 86, 75), new(227, 119, 194), new(127, 127, 127), new(188, 189, 34), new(23, 190, 207),
    ];
}

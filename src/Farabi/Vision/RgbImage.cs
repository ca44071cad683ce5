namespace Farabi.Vision;

/// <summary>
/// An 8-bit RGB image held as interleaved bytes, row by row (HWC: pixel (x, y) channel c is at
/// <c>(y * Width + x) * 3 + c</c>). Every image path in Farabi — files, data sets, procedural scenes,
/// preprocessing — meets in this one plain type; tensors are made from it by <see cref="ImageTensor"/>.
/// </summary>
public sealed class RgbImage
{
    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixels, interleaved RGB, row-major; length <c>Width * Height * 3</c>.</summary>
    public byte[] Pixels { get; }

    /// <summary>A black image of the given size.</summary>
    public RgbImage(int width, int height) : this(width, height, new byte[checked(Math.Max(width, 0) * Math.Max(height, 0) * 3)]) { }

    /// <summary>Wraps interleaved RGB bytes (not copied).</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"an image needs a positive size, not {width}x{height}.");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height * 3)
            throw new ArgumentException($"a {width}x{height} RGB image needs {(long)width * height * 3} bytes, not {pixels.Length}.");
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>
    /// Builds an RGB image from interleaved pixels with 1 (grey, copied to all three channels), 3 (RGB) or
    /// 4 (RGBA, alpha dropped as PIL's <c>convert("RGB")</c> does) channels; any other layout is an error.
    /// </summary>
    public static RgbImage FromInterleaved(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        if (channels is not (1 or 3 or 4))
            throw new ArgumentException($"an image must have 1 (grey), 3 (RGB) or 4 (RGBA) channels, not {channels}.");
        if (width <= 0 || height <= 0) throw new ArgumentException($"an image needs a positive size, not {width}x{height}.");
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"a {width}x{height} image with {channels} channels needs {(long)width * height * channels} bytes, not {pixels.Length}.");
        var rgb = new byte[width * height * 3];
        if (channels == 3) pixels.CopyTo(rgb);
        else
            for (int i = 0, n = width * height; i < n; i++)
            {
                if (channels == 1) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[i];
                else { rgb[3 * i] = pixels[4 * i]; rgb[3 * i + 1] = pixels[4 * i + 1]; rgb[3 * i + 2] = pixels[4 * i + 2]; }
            }
        return new RgbImage(width, height, rgb);
    }

    /// <summary>A filled image of one colour.</summary>
    public static RgbImage Filled(int width, int height, Rgb colour)
    {
        var image = new RgbImage(width, height);
        var p = image.Pixels;
        for (var i = 0; i < p.Length; i += 3) { p[i] = colour.R; p[i + 1] = colour.G; p[i + 2] = colour.B; }
        return image;
    }

    /// <summary>The colour at (x, y).</summary>
    public Rgb this[int x, int y]
    {
        get
        {
            var i = Index(x, y);
            return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
        set
        {
            var i = Index(x, y);
            Pixels[i] = value.R; Pixels[i + 1] = value.G; Pixels[i + 2] = value.B;
        }
    }

    int Index(int x, int y)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"pixel ({x}, {y}) is outside the {Width}x{Height} image.");
        return (y * Width + x) * 3;
    }

    /// <summary>The rectangle with top-left corner (<paramref name="left"/>, <paramref name="top"/>), copied.</summary>
    public RgbImage Crop(int left, int top, int width, int height)
    {
        if (left < 0 || top < 0 || width <= 0 || height <= 0 || left + width > Width || top + height > Height)
            throw new ArgumentException($"the crop {width}x{height} at ({left}, {top}) does not fit in the {Width}x{Height} image.");
        var output = new RgbImage(width, height);
        for (var y = 0; y < height; y++)
            Array.Copy(Pixels, ((top + y) * Width + left) * 3, output.Pixels, y * width * 3, width * 3);
        return output;
    }

    /// <summary>A deep copy.</summary>
    public RgbImage Clone() => new(Width, Height, (byte[])Pixels.Clone());
}

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    /// <summary>The colour as "#rrggbb".</summary>
    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";
}

namespace Farabi.Vision;

/// <summary>
/// Bicubic resizing that reproduces Pillow's <c>Image.resize(..., BICUBIC)</c> bit for bit on 8-bit
/// images, which is what torchvision's <c>Resize</c> runs on PIL images in openai/CLIP's preprocessing.
/// Pillow's scheme (libImaging/Resample.c): a separable convolution, horizontal pass then vertical,
/// with the cubic kernel a = -0.5 stretched by the scale factor when shrinking (so downsampling is
/// anti-aliased), weights normalised per output pixel, then converted to 22-bit fixed point; each pass
/// rounds and clamps to a byte.
/// </summary>
public static class BicubicResize
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes <paramref name="image"/> to <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"cannot resize to {width}x{height}.");
        var current = image;
        if (width != image.Width) current = Horizontal(current, width);
        if (height != image.Height) current = Vertical(current, height);
        return ReferenceEquals(current, image) ? image.Clone() : current;
    }

    /// <summary>Pillow's cubic kernel with a = -0.5.</summary>
    static double Cubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /// <summary>For each output index: the first input index, the tap count, and fixed-point weights.</summary>
    static (int[] First, int[] Count, int[] Weights, int KernelSize) Coefficients(int inSize, int outSize)
    {
        const double support0 = 2.0;
        var scale = (double)inSize / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = support0 * filterScale;
        var kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var first = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * kernelSize];
        var k = new double[kernelSize];
        for (var xx = 0; xx < outSize; xx++)
        {
            var center = (xx + 0.5) * scale;
            var ss = 1.0 / filterScale;
            // Pillow truncates toward zero here ((int) cast in C), then clamps.
            var xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            var xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            double total = 0;
            for (var x = 0; x < xmax; x++)
            {
                var w = Cubic((x + xmin - center + 0.5) * ss);
                k[x] = w;
                total += w;
            }
            for (var x = 0; x < xmax; x++)
            {
                var w = total != 0 ? k[x] / total : k[x];
                // Pillow's normalize_coeffs_8bpc: round half away from zero into 22-bit fixed point.
                weights[xx * kernelSize + x] = w < 0
                    ? (int)(-0.5 + w * (1 << PrecisionBits))
                    : (int)(0.5 + w * (1 << PrecisionBits));
            }
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return (first, count, weights, kernelSize);
    }

    static byte Clip8(int accumulator)
    {
        var v = accumulator >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    static RgbImage Horizontal(RgbImage input, int outWidth)
    {
        var (first, count, weights, ks) = Coefficients(input.Width, outWidth);
        var output = new RgbImage(outWidth, input.Height);
        var src = input.Pixels;
        var dst = output.Pixels;
        for (var y = 0; y < input.Height; y++)
        {
            var row = y * input.Width * 3;
            for (var xx = 0; xx < outWidth; xx++)
            {
                int r = 1 << (PrecisionBits - 1), g = r, b = r;
                var w0 = xx * ks;
                for (var x = 0; x < count[xx]; x++)
                {
                    var w = weights[w0 + x];
                    var s = row + (first[xx] + x) * 3;
                    r += src[s] * w; g += src[s + 1] * w; b += src[s + 2] * w;
                }
                var d = (y * outWidth + xx) * 3;
                dst[d] = Clip8(r); dst[d + 1] = Clip8(g); dst[d + 2] = Clip8(b);
            }
        }
        return output;
    }

    static RgbImage Vertical(RgbImage input, int outHeight)
    {
        var (first, count, weights, ks) = Coefficients(input.Height, outHeight);
        var width = input.Width;
        var output = new RgbImage(width, outHeight);
        var src = input.Pixels;
        var dst = output.Pixels;
        for (var yy = 0; yy < outHeight; yy++)
        {
            var w0 = yy * ks;
            for (var x = 0; x < width; x++)
            {
                int r = 1 << (PrecisionBits - 1), g = r, b = r;
                for (var y = 0; y < count[yy]; y++)
                {
                    var w = weights[w0 + y];
                    var s = ((first[yy] + y) * width + x) * 3;
                    r += src[s] * w; g += src[s + 1] * w; b += src[s + 2] * w;
                }
                var d = (yy * width + x) * 3;
                dst[d] = Clip8(r); dst[d + 1] = Clip8(g); dst[d + 2] = Clip8(b);
            }
        }
        return output;
    }
}

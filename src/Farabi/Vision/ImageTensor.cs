using TorchSharp;
using static TorchSharp.torch;

namespace Farabi.Vision;

/// <summary>
/// Conversions between <see cref="RgbImage"/> and the CHW float layout that vision models take:
/// plain <c>float[]</c> (for code without torch) and TorchSharp tensors [3, H, W] or [B, 3, H, W].
/// Byte values are divided by 255 in float32, exactly as torchvision's <c>ToTensor</c>.
/// </summary>
public static class ImageTensor
{
    /// <summary>The image as CHW floats in [0, 1]: channel c, row y, column x at <c>(c * H + y) * W + x</c>.</summary>
    public static float[] ToChw(RgbImage image)
    {
        int plane = image.Width * image.Height;
        var chw = new float[3 * plane];
        var p = image.Pixels;
        for (var i = 0; i < plane; i++)
        {
            chw[i] = p[3 * i] / 255f;
            chw[plane + i] = p[3 * i + 1] / 255f;
            chw[2 * plane + i] = p[3 * i + 2] / 255f;
        }
        return chw;
    }

    /// <summary>
    /// CHW floats back to an image: values are clamped to [0, 1], scaled by 255 and rounded. Only 3 channels
    /// (RGB) or 1 (grey) are accepted; any other layout is an error.
    /// </summary>
    public static RgbImage FromChw(ReadOnlySpan<float> chw, int channels, int height, int width)
    {
        if (channels is not (1 or 3))
            throw new ArgumentException($"an image tensor must have 3 (RGB) or 1 (grey) channels, not {channels}.");
        if (height <= 0 || width <= 0) throw new ArgumentException($"an image tensor needs a positive size, not {height}x{width}.");
        if (chw.Length != (long)channels * height * width)
            throw new ArgumentException($"a [{channels}, {height}, {width}] image tensor holds {(long)channels * height * width} values, not {chw.Length}.");
        var plane = height * width;
        var image = new RgbImage(width, height);
        var p = image.Pixels;
        for (var c = 0; c < 3; c++)
        {
            var src = channels == 1 ? 0 : c * plane;
            for (var i = 0; i < plane; i++)
                p[3 * i + c] = (byte)Math.Round(Math.Clamp(chw[src + i], 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
        }
        return image;
    }

    /// <summary>A [3, H, W] float32 tensor in [0, 1].</summary>
    public static Tensor ToTensor(RgbImage image) => tensor(ToChw(image), [3, image.Height, image.Width]);

    /// <summary>A [3, size, size] tensor from an already preprocessed CHW array (see <see cref="ClipPreprocess"/>).</summary>
    public static Tensor ToTensor(float[] chw, int height, int width)
    {
        if (chw.Length != 3L * height * width)
            throw new ArgumentException($"a [3, {height}, {width}] image tensor holds {3L * height * width} values, not {chw.Length}.");
        return tensor(chw, [3, height, width]);
    }

    /// <summary>A [B, 3, H, W] batch of same-sized images in [0, 1].</summary>
    public static Tensor Batch(IReadOnlyList<RgbImage> images)
    {
        if (images.Count == 0) throw new ArgumentException("a batch needs at least one image.");
        int w = images[0].Width, h = images[0].Height;
        var data = new float[images.Count * 3L * h * w];
        for (var b = 0; b < images.Count; b++)
        {
            if (images[b].Width != w || images[b].Height != h)
                throw new ArgumentException($"image {b} of the batch is {images[b].Width}x{images[b].Height}, the first is {w}x{h}; resize them first.");
            ToChw(images[b]).CopyTo(data, b * 3L * h * w);
        }
        return tensor(data, [images.Count, 3, h, w]);
    }

    /// <summary>A [B, 3, Size, Size] batch through CLIP's preprocessing.</summary>
    public static Tensor Batch(IReadOnlyList<RgbImage> images, ClipPreprocess preprocess)
    {
        if (images.Count == 0) throw new ArgumentException("a batch needs at least one image.");
        var s = preprocess.Options.Size;
        var data = new float[images.Count * 3L * s * s];
        for (var b = 0; b < images.Count; b++) preprocess.Apply(images[b]).CopyTo(data, b * 3L * s * s);
        return tensor(data, [images.Count, 3, s, s]);
    }

    /// <summary>Images back from a [3, H, W] / [1, H, W] tensor, or each image of a [B, C, H, W] batch (values in [0, 1]).</summary>
    public static IReadOnlyList<RgbImage> FromTensor(Tensor t)
    {
        using var cpu = t.detach().to(ScalarType.Float32).cpu().contiguous();
        var shape = cpu.shape;
        if (shape.Length == 3) return [FromChw(cpu.data<float>().ToArray(), (int)shape[0], (int)shape[1], (int)shape[2])];
        if (shape.Length != 4) throw new ArgumentException($"an image tensor must be [C, H, W] or [B, C, H, W], not [{string.Join(", ", shape)}].");
        var all = cpu.data<float>().ToArray();
        var per = (int)(shape[1] * shape[2] * shape[3]);
        var images = new List<RgbImage>((int)shape[0]);
        for (var b = 0; b < shape[0]; b++)
            images.Add(FromChw(all.AsSpan(b * per, per), (int)shape[1], (int)shape[2], (int)shape[3]));
        return images;
    }
}

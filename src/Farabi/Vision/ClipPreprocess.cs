namespace Farabi.Vision;

/// <summary>
/// Settings of CLIP's image preprocessing. The defaults are openai/CLIP's (<c>clip.py: _transform</c>)
/// for ViT-B/32: 224 pixels, and the per-channel mean and standard deviation of CLIP's training images.
/// </summary>
public sealed record ClipPreprocessOptions
{
    /// <summary>Side of the square the model sees (224 for ViT-B/32, 336 for ViT-L/14@336px).</summary>
    public int Size { get; init; } = 224;

    /// <summary>Per-channel mean (R, G, B) subtracted after scaling to [0, 1].</summary>
    public IReadOnlyList<float> Mean { get; init; } = [0.48145466f, 0.4578275f, 0.40821073f];

    /// <summary>Per-channel standard deviation (R, G, B) divided by after subtracting the mean.</summary>
    public IReadOnlyList<float> Std { get; init; } = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>openai/CLIP's settings.</summary>
    public static ClipPreprocessOptions Default { get; } = new();

    /// <summary>No normalisation (mean 0, std 1): pixels stay in [0, 1]; useful for small models trained here.</summary>
    public static ClipPreprocessOptions Unnormalised(int size) => new() { Size = size, Mean = [0f, 0f, 0f], Std = [1f, 1f, 1f] };
}

/// <summary>
/// CLIP's image preprocessing, step for step as openai/CLIP: resize so the shortest side equals the
/// target size (bicubic, Pillow-exact), centre crop to a square, scale to [0, 1], normalise each channel
/// with CLIP's mean and standard deviation. Output is a CHW float array.
/// </summary>
public sealed class ClipPreprocess(ClipPreprocessOptions? options = null)
{
    /// <summary>The settings in use.</summary>
    public ClipPreprocessOptions Options { get; } = Validate(options ?? ClipPreprocessOptions.Default);

    static ClipPreprocessOptions Validate(ClipPreprocessOptions o)
    {
        if (o.Size <= 0) throw new ArgumentException($"the preprocessing size must be positive, not {o.Size}.");
        if (o.Mean.Count != 3 || o.Std.Count != 3) throw new ArgumentException("the preprocessing mean and std need exactly 3 values (R, G, B).");
        if (o.Std.Any(s => !(s > 0))) throw new ArgumentException("the preprocessing std values must be positive.");
        return o;
    }

    /// <summary>
    /// torchvision's <c>Resize(int)</c>: the shorter side becomes <paramref name="size"/> and the longer one
    /// <c>int(size * long / short)</c> (truncated, as torchvision computes it).
    /// </summary>
    public static RgbImage ResizeShortestSide(RgbImage image, int size)
    {
        int w = image.Width, h = image.Height;
        var (shortSide, longSide) = w <= h ? (w, h) : (h, w);
        if (shortSide == size) return image;
        var newLong = (int)((long)size * longSide / shortSide);
        return w <= h ? BicubicResize.Resize(image, size, newLong) : BicubicResize.Resize(image, newLong, size);
    }

    /// <summary>
    /// torchvision's <c>CenterCrop</c>: the offsets are <c>round((in - out) / 2)</c> with Python's
    /// round-half-to-even, so an odd surplus of 1 puts the crop at offset 0 and a surplus of 3 at offset 2.
    /// </summary>
    public static RgbImage CenterCrop(RgbImage image, int size)
    {
        if (image.Width < size || image.Height < size)
            throw new ArgumentException($"cannot centre crop {size}x{size} from a {image.Width}x{image.Height} image.");
        var top = (int)Math.Round((image.Height - size) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((image.Width - size) / 2.0, MidpointRounding.ToEven);
        return image.Crop(left, top, size, size);
    }

    /// <summary>Resize then centre crop: the square RGB image the model will see, before normalisation.</summary>
    public RgbImage ResizeAndCrop(RgbImage image) => CenterCrop(ResizeShortestSide(image, Options.Size), Options.Size);

    /// <summary>The full pipeline: a float array in CHW layout of length 3 * Size * Size.</summary>
    public float[] Apply(RgbImage image) => Normalise(ResizeAndCrop(image));

    /// <summary>Scales a (square or not) image to [0, 1] and normalises it, CHW, in float32 as torch does.</summary>
    public float[] Normalise(RgbImage image)
    {
        var chw = ImageTensor.ToChw(image);
        var plane = image.Width * image.Height;
        for (var c = 0; c < 3; c++)
        {
            float mean = Options.Mean[c], std = Options.Std[c];
            for (int i = c * plane, end = i + plane; i < end; i++) chw[i] = (chw[i] - mean) / std;
        }
        return chw;
    }
}

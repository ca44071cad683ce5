using Farabi.Vision;
using Xunit;

namespace Farabi.Tests.Vision;

public sealed class ClipPreprocessTests
{
    static RgbImage Pattern(int w, int h)
    {
        var img = new RgbImage(w, h);
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                img[x, y] = new Rgb((byte)((x * 37 + y * 91) % 256), (byte)((x * x * 13 + y * 7) % 256), (byte)((x * y * 29 + 50) % 256));
        return img;
    }

    // Pillow 9.4 Image.resize(..., BICUBIC) on the same pattern (Debian python3-pil), bytes in hex.
    [Theory]
    [InlineData(11, 7, 4, 3, "601b4a8b8c706e91806f2b3a712b72709c7a83a191743b787c3b7d73ac7d76b180794b9c")]
    [InlineData(4, 3, 9, 5, "0000320000320d0431200d30311c2f41302e544f2d646d2c6b7a2b1b02312003332f073743103c5a1f406f334383524892704c997d4e58062f5f08356f0c4282155193245ea3386ab65779c67586cd828c970b2ea00d37ba114cbc1a667f297c413d92445cab5d7ac06687caba0e2dc41038e41452db1d716b2c8c0040a7005fc6117de01c8aec")]
    [InlineData(10, 6, 6, 4, "2904356e3842a9a359918f6f418a685d292da20e445c429e76ad836899929c94ab72332745195c7b4d9079b85c9ba4975c9f976b3e83bd236a76577c4bc27361ae5eb3a97c8a487c")]
    [InlineData(13, 5, 13, 2, "4f063274134b5b3a6c807b7dadd661684b798dda8b5283ac77461d5e2336831a4fb02b706b56815b163280238d674a8f8c8b8059e645765ba09bea915e93938356aa6a33428f2a9d5c3b9f796690")]
    public void Bicubic_resize_matches_pillow_byte_for_byte(int w, int h, int ow, int oh, string expectedHex)
    {
        var resized = BicubicResize.Resize(Pattern(w, h), ow, oh);
        Assert.Equal(expectedHex, Convert.ToHexStringLower(resized.Pixels));
    }

    [Fact]
    public void Resize_keeps_a_flat_colour_flat()
    {
        var img = BicubicResize.Resize(RgbImage.Filled(37, 23, new Rgb(12, 200, 99)), 8, 5);
        Assert.All(Enumerable.Range(0, 40), i => Assert.Equal(new Rgb(12, 200, 99), img[i % 8, i / 8]));
    }

    [Fact]
    public void Shortest_side_becomes_the_target_and_the_long_side_is_truncated()
    {
        // torchvision: long = int(size * long / short) = int(4 * 10 / 6) = 6.
        var r = ClipPreprocess.ResizeShortestSide(Pattern(10, 6), 4);
        Assert.Equal((6, 4), (r.Width, r.Height));
        var t = ClipPreprocess.ResizeShortestSide(Pattern(3, 7), 2);
        Assert.Equal((2, 4), (t.Width, t.Height));
        // Already the right size: untouched.
        var same = Pattern(4, 9);
        Assert.Same(same, ClipPreprocess.ResizeShortestSide(same, 4));
    }

    [Fact]
    public void Centre_crop_of_a_two_colour_image_keeps_the_middle_columns()
    {
        // 6x4: left half red, right half blue. Crop 4x4 starts at column round(2/2) = 1.
        var img = new RgbImage(6, 4);
        for (var y = 0; y < 4; y++)
            for (var x = 0; x < 6; x++)
                img[x, y] = x < 3 ? new Rgb(255, 0, 0) : new Rgb(0, 0, 255);
        var pre = new ClipPreprocess(new ClipPreprocessOptions { Size = 4 });
        var square = pre.ResizeAndCrop(img);
        Assert.Equal((4, 4), (square.Width, square.Height));
        for (var y = 0; y < 4; y++)
        {
            Assert.Equal(new Rgb(255, 0, 0), square[0, y]);
            Assert.Equal(new Rgb(255, 0, 0), square[1, y]);
            Assert.Equal(new Rgb(0, 0, 255), square[2, y]);
            Assert.Equal(new Rgb(0, 0, 255), square[3, y]);
        }
    }

    [Theory]
    [InlineData(5, 0)]   // round(0.5) = 0 (half to even)
    [InlineData(7, 2)]   // round(1.5) = 2
    [InlineData(9, 2)]   // round(2.5) = 2
    [InlineData(8, 2)]
    public void Centre_crop_offsets_round_half_to_even_like_python(int width, int expectedLeft)
    {
        var img = new RgbImage(width, 4);
        for (var x = 0; x < width; x++) img[x, 0] = new Rgb((byte)x, 0, 0);
        var crop = ClipPreprocess.CenterCrop(img, 4);
        Assert.Equal(expectedLeft, crop[0, 0].R);
    }

    [Fact]
    public void Normalisation_is_exact_float32_arithmetic_with_clip_mean_and_std()
    {
        var img = new RgbImage(2, 2);
        img[0, 0] = new Rgb(0, 128, 255);
        img[1, 1] = new Rgb(255, 255, 255);
        var pre = new ClipPreprocess(new ClipPreprocessOptions { Size = 2 });
        var chw = pre.Apply(img);
        Assert.Equal(12, chw.Length);
        Assert.Equal((0f - 0.48145466f) / 0.26862954f, chw[0]);                 // R of (0,0)
        Assert.Equal((128 / 255f - 0.4578275f) / 0.26130258f, chw[4]);          // G plane starts at 4
        Assert.Equal((1f - 0.40821073f) / 0.27577711f, chw[8]);                 // B of (0,0)
        Assert.Equal((1f - 0.48145466f) / 0.26862954f, chw[3]);                 // R of (1,1)
        Assert.Equal(-1.7922626f, chw[0], 6);                                   // the familiar CLIP value for black red
    }

    [Fact]
    public void Full_pipeline_has_the_target_shape_for_any_aspect()
    {
        var pre = new ClipPreprocess(new ClipPreprocessOptions { Size = 16 });
        Assert.Equal(3 * 16 * 16, pre.Apply(Pattern(50, 21)).Length);
        Assert.Equal(3 * 16 * 16, pre.Apply(Pattern(9, 40)).Length);
        Assert.Throws<ArgumentException>(() => new ClipPreprocess(new ClipPreprocessOptions { Std = [1f, 0f, 1f] }));
    }
}

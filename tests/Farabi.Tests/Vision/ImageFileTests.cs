using Farabi.Vision;
using SkiaSharp;
using Xunit;

namespace Farabi.Tests.Vision;

public sealed class ImageFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-img-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static RgbImage Gradient(int w, int h)
    {
        var img = new RgbImage(w, h);
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                img[x, y] = new Rgb((byte)(x * 255 / Math.Max(1, w - 1)), (byte)(y * 255 / Math.Max(1, h - 1)), (byte)((x * 7 + y * 13) % 256));
        return img;
    }

    [Fact]
    public void Png_round_trip_is_lossless()
    {
        var img = Gradient(17, 9);
        var path = Path.Combine(_dir, "g.png");
        ImageFile.SavePng(img, path);
        var back = ImageFile.Load(path);
        Assert.Equal(17, back.Width);
        Assert.Equal(9, back.Height);
        Assert.Equal(img.Pixels, back.Pixels);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void Grey_png_loads_with_three_equal_channels_and_rgba_drops_alpha()
    {
        using (var grey = new SKBitmap(new SKImageInfo(2, 1, SKColorType.Gray8, SKAlphaType.Opaque)))
        {
            grey.SetPixel(0, 0, new SKColor(10, 10, 10));
            grey.SetPixel(1, 0, new SKColor(200, 200, 200));
            using var png = grey.Encode(SKEncodedImageFormat.Png, 100);
            var img = ImageFile.Decode(png.ToArray(), "grey.png");
            Assert.Equal(new Rgb(10, 10, 10), img[0, 0]);
            Assert.Equal(new Rgb(200, 200, 200), img[1, 0]);
        }
        using (var rgba = new SKBitmap(new SKImageInfo(1, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            rgba.SetPixel(0, 0, new SKColor(100, 150, 200, 60));
            using var png = rgba.Encode(SKEncodedImageFormat.Png, 100);
            // Unpremultiplied colour survives; alpha is dropped like PIL's convert("RGB").
            Assert.Equal(new Rgb(100, 150, 200), ImageFile.Decode(png.ToArray())[0, 0]);
        }
    }

    [Fact]
    public void Jpeg_decodes_through_skia()
    {
        using var bmp = ImageFile.ToBitmap(RgbImage.Filled(16, 16, new Rgb(200, 40, 40)));
        using var jpg = bmp.Encode(SKEncodedImageFormat.Jpeg, 95);
        var img = ImageFile.Decode(jpg.ToArray(), "red.jpg");
        var c = img[8, 8];
        Assert.InRange(c.R, 190, 210);
        Assert.InRange(c.G, 30, 50);
    }

    [Fact]
    public void Unreadable_files_are_one_sentence_errors_naming_the_file()
    {
        var bad = Path.Combine(_dir, "notes.png");
        File.WriteAllText(bad, "this is not an image");
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Load(bad));
        Assert.Contains(bad, e.Message);
        Assert.DoesNotContain("\n", e.Message);

        var missing = Path.Combine(_dir, "missing.png");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => ImageFile.Load(missing)).Message);

        // A PNG cut in half is reported as truncated, not silently half-black.
        var full = ImageFile.EncodePng(Gradient(64, 64));
        var cut = Path.Combine(_dir, "cut.png");
        File.WriteAllBytes(cut, full[..(full.Length / 2)]);
        Assert.Contains(cut, Assert.Throws<InvalidDataException>(() => ImageFile.Load(cut)).Message);
    }

    [Fact]
    public void Wrong_channel_layouts_are_rejected()
    {
        Assert.Contains("2", Assert.Throws<ArgumentException>(() => RgbImage.FromInterleaved(new byte[8], 2, 2, 2)).Message);
        Assert.Throws<ArgumentException>(() => RgbImage.FromInterleaved(new byte[7], 2, 2, 3));
        Assert.Throws<ArgumentException>(() => ImageTensor.FromChw(new float[2 * 4], 2, 2, 2));
    }

    [Fact]
    public void List_images_is_sorted_and_filters_extensions()
    {
        foreach (var n in new[] { "b.png", "a.JPG", "c.txt" }) File.WriteAllText(Path.Combine(_dir, n), "");
        Assert.Equal(["a.JPG", "b.png"], ImageFile.ListImages(_dir).Select(Path.GetFileName));
    }
}

using System.Runtime.InteropServices;
using Farabi.Tokenizers;
using SkiaSharp;

namespace Farabi.Vision;

/// <summary>
/// Reads and writes image files through SkiaSharp (PNG, JPEG, WebP, GIF, BMP, ...), never a hand-written
/// decoder. Decoded images become <see cref="RgbImage"/>: grey is copied to three channels and alpha is
/// dropped (as PIL's <c>convert("RGB")</c> in openai/CLIP's preprocessing does).
/// </summary>
public static class ImageFile
{
    /// <summary>The file extensions <see cref="ListImages"/> picks up.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        { ".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp" };

    /// <summary>Loads an image file; an unreadable or undecodable file is a one-sentence error naming it.</summary>
    public static RgbImage Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the image file {path} does not exist.", path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new InvalidDataException($"the image file {path} cannot be read: {e.Message}"); }
        return Decode(bytes, path);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] encoded, string name = "<memory>")
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException($"the image file {name} is not an image SkiaSharp can decode (PNG, JPEG, WebP, GIF, BMP).");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0) throw new InvalidDataException($"the image file {name} has an empty size {info.Width}x{info.Height}.");
        // Decode to unpremultiplied RGBA with no colour-space conversion, so pixel values are the file's own.
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[target.BytesSize];
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            var result = codec.GetPixels(target, handle.AddrOfPinnedObject());
            if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                throw new InvalidDataException($"the image file {name} could not be decoded ({result}).");
            if (result == SKCodecResult.IncompleteInput)
                throw new InvalidDataException($"the image file {name} is truncated.");
        }
        finally { handle.Free(); }
        return RgbImage.FromInterleaved(rgba, info.Width, info.Height, 4);
    }

    /// <summary>Encodes an image as PNG bytes.</summary>
    public static byte[] EncodePng(RgbImage image)
    {
        using var bitmap = ToBitmap(image);
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp failed to encode a PNG.");
        return encoded.ToArray();
    }

    /// <summary>Writes an image as a PNG file, atomically (temporary file, then rename).</summary>
    public static void SavePng(RgbImage image, string path) => AtomicFile.WriteBytes(path, EncodePng(image));

    /// <summary>Copies an image into a new opaque SkiaSharp bitmap (for drawing on it or encoding it).</summary>
    public static SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[image.Width * image.Height * 4];
        var p = image.Pixels;
        for (int i = 0, n = image.Width * image.Height; i < n; i++)
        {
            rgba[4 * i] = p[3 * i]; rgba[4 * i + 1] = p[3 * i + 1]; rgba[4 * i + 2] = p[3 * i + 2]; rgba[4 * i + 3] = 255;
        }
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }

    /// <summary>Reads a SkiaSharp bitmap of any colour type back as RGB (alpha dropped).</summary>
    public static RgbImage FromBitmap(SKBitmap bitmap)
    {
        using var converted = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!bitmap.CopyTo(converted, SKColorType.Rgba8888))
        {
            using var canvas = new SKCanvas(converted);
            using var image = SKImage.FromBitmap(bitmap);
            canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest), null);
        }
        var rgba = new byte[bitmap.Width * bitmap.Height * 4];
        Marshal.Copy(converted.GetPixels(), rgba, 0, rgba.Length);
        return RgbImage.FromInterleaved(rgba, bitmap.Width, bitmap.Height, 4);
    }

    /// <summary>The image files directly inside <paramref name="folder"/>, sorted by name (ordinal) so runs are reproducible.</summary>
    public static IReadOnlyList<string> ListImages(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"the image folder {folder} does not exist.");
        return Directory.EnumerateFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f)))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
    }
}

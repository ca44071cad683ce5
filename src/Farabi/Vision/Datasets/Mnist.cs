using System.Buffers.Binary;

namespace Farabi.Vision.Datasets;

/// <summary>
/// Reads MNIST's IDX files (LeCun et al. 1998): a big-endian header (magic 0x00000803 for images with
/// count, rows, columns; 0x00000801 for labels with count), then one unsigned byte per pixel or label.
/// Files may be gzip-compressed. Images are grey, copied to three channels so RGB models take them.
/// </summary>
public static class Mnist
{
    /// <summary>Class names: the digits "0".."9", as in openai/CLIP's MNIST prompts (see <see cref="PromptTemplates.Mnist"/>).</summary>
    public static readonly IReadOnlyList<string> ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Reads an images file and its labels file, up to <paramref name="limit"/> records.</summary>
    public static LabeledImageSet Load(string imagesPath, string labelsPath, int limit = int.MaxValue)
    {
        var labels = ReadLabels(labelsPath, limit);
        var images = ReadImages(imagesPath, limit);
        if (images.Count != labels.Length)
            throw new InvalidDataException($"the MNIST files {imagesPath} and {labelsPath} disagree: {images.Count} images but {labels.Length} labels.");
        return new LabeledImageSet(images, labels, ClassNames, Path.GetFileName(imagesPath));
    }

    /// <summary>Reads the images of an IDX3 file as RGB (grey copied to each channel).</summary>
    public static IReadOnlyList<RgbImage> ReadImages(string path, int limit = int.MaxValue)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the MNIST images file {path} does not exist.", path);
        using var s = ImageDataStreams.Open(path);
        Span<byte> header = stackalloc byte[16];
        ImageDataStreams.ReadExactly(s, header, path, "the IDX header");
        var magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != 0x00000803)
            throw new InvalidDataException($"the file {path} is not an IDX image file: magic 0x{magic:x8}, expected 0x00000803.");
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]), rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]), cols = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (count < 0 || rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096)
            throw new InvalidDataException($"the IDX image file {path} has an impossible header: {count} images of {rows}x{cols}.");
        var n = Math.Min(count, limit);
        var images = new List<RgbImage>(n);
        var grey = new byte[rows * cols];
        for (var i = 0; i < n; i++)
        {
            ImageDataStreams.ReadExactly(s, grey, path, $"image record {i}");
            images.Add(RgbImage.FromInterleaved(grey, cols, rows, 1));
        }
        return images;
    }

    /// <summary>Reads the labels of an IDX1 file.</summary>
    public static int[] ReadLabels(string path, int limit = int.MaxValue)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the MNIST labels file {path} does not exist.", path);
        using var s = ImageDataStreams.Open(path);
        Span<byte> header = stackalloc byte[8];
        ImageDataStreams.ReadExactly(s, header, path, "the IDX header");
        var magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != 0x00000801)
            throw new InvalidDataException($"the file {path} is not an IDX label file: magic 0x{magic:x8}, expected 0x00000801.");
        var count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count < 0) throw new InvalidDataException($"the IDX label file {path} has a negative count {count}.");
        var n = Math.Min(count, limit);
        var bytes = new byte[n];
        ImageDataStreams.ReadExactly(s, bytes, path, $"the labels (record {n - 1} is the last wanted)");
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            if (bytes[i] > 9) throw new InvalidDataException($"the IDX label file {path} has label {bytes[i]} in record {i}; MNIST labels are 0-9.");
            labels[i] = bytes[i];
        }
        return labels;
    }
}

using System.IO.Compression;

namespace Farabi.Vision.Datasets;

/// <summary>
/// Reads CIFAR-10's binary format (Krizhevsky 2009): each record is 1 label byte then 1024 red, 1024
/// green and 1024 blue bytes of a 32 x 32 image, row-major; files may be gzip-compressed. Class names
/// come from <c>batches.meta.txt</c> (one per line) beside the file when present.
/// </summary>
public static class Cifar10
{
    /// <summary>Bytes per record.</summary>
    public const int RecordSize = 1 + 3 * 32 * 32;

    /// <summary>The ten class names in label order, used when no <c>batches.meta.txt</c> is found.</summary>
    public static readonly IReadOnlyList<string> DefaultClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Reads up to <paramref name="limit"/> records of a CIFAR-10 binary file (.bin or .bin.gz).</summary>
    public static LabeledImageSet Load(string path, int limit = int.MaxValue)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the CIFAR-10 file {path} does not exist.", path);
        var names = ReadClassNames(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "batches.meta.txt"));
        var images = new List<RgbImage>();
        var labels = new List<int>();
        using var stream = ImageDataStreams.Open(path);
        var record = new byte[RecordSize];
        for (var index = 0; images.Count < limit; index++)
        {
            int read;
            try { read = stream.ReadAtLeast(record, RecordSize, throwOnEndOfStream: false); }
            catch (InvalidDataException e) { throw new InvalidDataException($"the CIFAR-10 file {path} is not valid gzip ({e.Message}) at record {index}."); }
            if (read == 0) break;
            if (read < RecordSize)
                throw new InvalidDataException($"the CIFAR-10 file {path} is truncated: record {index} has {read} of {RecordSize} bytes.");
            if (record[0] >= names.Count)
                throw new InvalidDataException($"the CIFAR-10 file {path} has label {record[0]} in record {index}; labels must be below {names.Count}.");
            labels.Add(record[0]);
            // Planar R, G, B -> interleaved RGB.
            var rgb = new byte[3 * 1024];
            for (var i = 0; i < 1024; i++)
            {
                rgb[3 * i] = record[1 + i];
                rgb[3 * i + 1] = record[1 + 1024 + i];
                rgb[3 * i + 2] = record[1 + 2048 + i];
            }
            images.Add(new RgbImage(32, 32, rgb));
        }
        if (images.Count == 0) throw new InvalidDataException($"the CIFAR-10 file {path} holds no records.");
        return new LabeledImageSet(images, labels, names, Path.GetFileName(path));
    }

    /// <summary>Class names from a <c>batches.meta.txt</c> (blank lines ignored), or the defaults when it is absent.</summary>
    public static IReadOnlyList<string> ReadClassNames(string metaPath)
    {
        if (!File.Exists(metaPath)) return DefaultClassNames;
        var names = File.ReadAllLines(metaPath).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (names.Count == 0) throw new InvalidDataException($"the class-name file {metaPath} is empty.");
        return names;
    }
}

/// <summary>Opens data files, decompressing gzip ones (by magic bytes, not by name).</summary>
internal static class ImageDataStreams
{
    public static Stream Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        var n = file.Read(magic);
        file.Position = 0;
        if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) return new BufferedStream(new GZipStream(file, CompressionMode.Decompress), 1 << 16);
        return file;
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes, or names the file and what was being read.</summary>
    public static void ReadExactly(Stream s, Span<byte> buffer, string path, string what)
    {
        int read;
        try { read = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false); }
        catch (InvalidDataException e) { throw new InvalidDataException($"the file {path} is not valid gzip ({e.Message}) while reading {what}."); }
        if (read < buffer.Length) throw new InvalidDataException($"the file {path} is truncated: {what} has {read} of {buffer.Length} bytes.");
    }
}

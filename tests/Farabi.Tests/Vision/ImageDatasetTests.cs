using System.Buffers.Binary;
using System.IO.Compression;
using Farabi.Testing;
using Farabi.Vision;
using Farabi.Vision.Datasets;
using Xunit;

namespace Farabi.Tests.Vision;

public sealed class ImageDatasetTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-ds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static byte[] CifarRecord(byte label, byte r, byte g, byte b)
    {
        var rec = new byte[Cifar10.RecordSize];
        rec[0] = label;
        Array.Fill(rec, r, 1, 1024);
        Array.Fill(rec, g, 1025, 1024);
        Array.Fill(rec, b, 2049, 1024);
        rec[1 + 5] = 77; // R of pixel (5, 0)
        rec[2049 + 32 * 3 + 1] = 99; // B of pixel (1, 3)
        return rec;
    }

    static void WriteGzip(string path, byte[] bytes)
    {
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(bytes);
    }

    [Fact]
    public void Cifar_records_become_interleaved_rgb_with_names_from_the_meta_file()
    {
        File.WriteAllLines(Path.Combine(_dir, "batches.meta.txt"), ["cat", "dog", ""]);
        var path = Path.Combine(_dir, "tiny.bin.gz");
        WriteGzip(path, [.. CifarRecord(1, 10, 20, 30), .. CifarRecord(0, 200, 100, 50)]);
        var set = Cifar10.Load(path);
        Assert.Equal(2, set.Count);
        Assert.Equal(["cat", "dog"], set.ClassNames);
        Assert.Equal([1, 0], set.Labels);
        Assert.Equal(new Rgb(10, 20, 30), set.Images[0][0, 0]);
        Assert.Equal(new Rgb(77, 20, 30), set.Images[0][5, 0]);
        Assert.Equal(new Rgb(10, 20, 99), set.Images[0][1, 3]);
        Assert.Equal(["a photo of a dog.", "a photo of a cat."], set.Captions());
        Assert.Single(Cifar10.Load(path, limit: 1).Images);
    }

    [Fact]
    public void Truncated_or_mislabelled_cifar_names_file_and_record()
    {
        var cut = Path.Combine(_dir, "cut.bin");
        File.WriteAllBytes(cut, [.. CifarRecord(1, 0, 0, 0), .. CifarRecord(2, 0, 0, 0)[..100]]);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(cut));
        Assert.Contains(cut, e.Message);
        Assert.Contains("record 1", e.Message);
        var bad = Path.Combine(_dir, "bad.bin");
        File.WriteAllBytes(bad, CifarRecord(12, 0, 0, 0));
        Assert.Contains("label 12", Assert.Throws<InvalidDataException>(() => Cifar10.Load(bad)).Message);
    }

    static byte[] Idx(int magic, int[] dims, byte[] data)
    {
        var header = new byte[4 + 4 * dims.Length];
        BinaryPrimitives.WriteInt32BigEndian(header, magic);
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dims[i]);
        return [.. header, .. data];
    }

    [Fact]
    public void Mnist_idx_images_are_grey_copied_to_three_channels()
    {
        var pixels = new byte[2 * 3 * 4];
        pixels[1] = 255;              // image 0, row 0, col 1
        pixels[12 + 4 * 2 + 3] = 128; // image 1, row 2, col 3
        var images = Path.Combine(_dir, "img-idx3-ubyte.gz");
        var labels = Path.Combine(_dir, "lbl-idx1-ubyte");
        WriteGzip(images, Idx(0x803, [2, 3, 4], pixels));
        File.WriteAllBytes(labels, Idx(0x801, [2], [7, 3]));
        var set = Mnist.Load(images, labels);
        Assert.Equal([7, 3], set.Labels);
        Assert.Equal((4, 3), (set.Images[0].Width, set.Images[0].Height));
        Assert.Equal(new Rgb(255, 255, 255), set.Images[0][1, 0]);
        Assert.Equal(new Rgb(128, 128, 128), set.Images[1][3, 2]);
        Assert.Equal(new Rgb(0, 0, 0), set.Images[1][0, 0]);
        Assert.Equal("a photo of the number: \"7\".", set.Captions(PromptTemplates.Mnist[0])[0]);
    }

    [Fact]
    public void Malformed_mnist_files_name_the_file_and_record()
    {
        var images = Path.Combine(_dir, "short-idx3");
        File.WriteAllBytes(images, Idx(0x803, [3, 2, 2], new byte[9]));
        var e = Assert.Throws<InvalidDataException>(() => Mnist.ReadImages(images));
        Assert.Contains(images, e.Message);
        Assert.Contains("image record 2", e.Message);
        var wrong = Path.Combine(_dir, "wrong-magic");
        File.WriteAllBytes(wrong, Idx(0x801, [1], [1]));
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => Mnist.ReadImages(wrong)).Message);
    }

    [Fact]
    public void Holding_out_classes_separates_them_completely()
    {
        var imgs = Enumerable.Range(0, 12).Select(i => RgbImage.Filled(2, 2, new Rgb((byte)i, 0, 0))).ToList();
        var set = new LabeledImageSet(imgs, Enumerable.Range(0, 12).Select(i => i % 4).ToList(), ["a", "b", "c", "d"], "toy");
        var (seen, unseen) = set.HoldOutClasses(["B", "d"]);
        Assert.Equal(6, seen.Count);
        Assert.Equal(6, unseen.Count);
        Assert.All(seen.Labels, l => Assert.True(l is 0 or 2));
        Assert.All(unseen.Labels, l => Assert.True(l is 1 or 3));
        Assert.Equal(set.ClassNames, unseen.ClassNames);
        Assert.Throws<ArgumentException>(() => set.HoldOutClasses(["zebra"]));
        Assert.Throws<FormatException>(() => LabeledImageSet.Caption("a photo", "cat"));
        Assert.Equal(18, PromptTemplates.Cifar10.Count);
        Assert.Equal("a blurry photo of the ship.", PromptTemplates.Fill(PromptTemplates.Cifar10, "ship")[10]);
    }

    [Fact]
    public void Class_folders_become_labels_in_ordinal_order()
    {
        foreach (var (cls, n) in new[] { ("dog", 2), ("cat", 1) })
        {
            Directory.CreateDirectory(Path.Combine(_dir, "pets", cls));
            for (var i = 0; i < n; i++) ImageFile.SavePng(RgbImage.Filled(3, 3, new Rgb((byte)(cls == "cat" ? 10 : 200), 0, 0)), Path.Combine(_dir, "pets", cls, $"{i}.png"));
        }
        File.WriteAllText(Path.Combine(_dir, "pets", "dog", "notes.txt"), "not an image");
        var set = LabeledImageSet.LoadClassFolders(Path.Combine(_dir, "pets"));
        Assert.Equal(["cat", "dog"], set.ClassNames);
        Assert.Equal([0, 1, 1], set.Labels);
        Assert.Equal(10, set.Images[0][0, 0].R);
        Assert.Throws<DirectoryNotFoundException>(() => LabeledImageSet.LoadClassFolders(Path.Combine(_dir, "nope")));
    }

    [Fact]
    public void Real_cifar10_test_split_reads_2000_balanced_images()
    {
        var path = SharedData.Require("images/cifar10/test-2k.bin.gz");
        var set = Cifar10.Load(path);
        Assert.Equal(2000, set.Count);
        Assert.Equal("airplane", set.ClassNames[0]);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(200, set.Labels.Count(l => l == c)));
        // Real photos: pixel values spread, not a constant fill.
        Assert.True(set.Images[0].Pixels.Distinct().Count() > 50);
    }

    [Fact]
    public void Real_mnist_test_set_reads_10000_digits()
    {
        var images = SharedData.Require("images/mnist/t10k-images-idx3-ubyte.gz");
        var labels = SharedData.Require("images/mnist/t10k-labels-idx1-ubyte.gz");
        var set = Mnist.Load(images, labels);
        Assert.Equal(10000, set.Count);
        Assert.Equal(7, set.Labels[0]); // the well-known first test digit
        Assert.Equal((28, 28), (set.Images[0].Width, set.Images[0].Height));
    }
}

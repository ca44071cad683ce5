using System.Security.Cryptography;
using System.Text;
using Farabi.IO;
using Farabi.Vision;
using static TorchSharp.torch;

namespace Farabi.Towers;

/// <summary>
/// Keeps the frozen towers' outputs on disk, so that a probe or projection trained many times (seeds, losses,
/// oversight rounds) embeds its data once. One safetensors file per (tower, data set): the key hashes the tower's
/// name and every item's content in order, so a changed item, order or tower is a different file, never a stale hit.
/// Files are written to a temporary name and renamed.
/// </summary>
public sealed class EmbeddingCache
{
    /// <summary>A cache in <paramref name="directory"/> (default: <see cref="DefaultDirectory"/>).</summary>
    public EmbeddingCache(string? directory = null) => Directory = directory ?? DefaultDirectory;

    /// <summary>The folder holding the cached files.</summary>
    public string Directory { get; }

    /// <summary><c>$FARABI_CACHE/embeddings</c>, else <c>~/.cache/farabi/embeddings</c>.</summary>
    public static string DefaultDirectory
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("FARABI_CACHE");
            if (string.IsNullOrEmpty(root))
                root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "farabi");
            return Path.Combine(root, "embeddings");
        }
    }

    /// <summary>Embeddings of <paramref name="texts"/> by <paramref name="embedder"/>, from the cache when present.</summary>
    public float[][] Embed(ITextEmbedder embedder, IReadOnlyList<string> texts, IProgress<int>? progress = null) =>
        GetOrCompute(embedder.Name, embedder.Dimension, texts.Count, hash => { foreach (var t in texts) AddItem(hash, Encoding.UTF8.GetBytes(t)); },
            () => embedder.Embed(texts, progress));

    /// <summary>Features of <paramref name="images"/> by <paramref name="embedder"/>, from the cache when present.</summary>
    public float[][] Embed(IImageEmbedder embedder, IReadOnlyList<RgbImage> images, IProgress<int>? progress = null) =>
        GetOrCompute(embedder.Name, embedder.Dimension, images.Count, hash =>
        {
            Span<byte> size = stackalloc byte[8];
            foreach (var image in images)
            {
                BitConverter.TryWriteBytes(size, image.Width);
                BitConverter.TryWriteBytes(size[4..], image.Height);
                hash.AppendData(size);
                AddItem(hash, image.Pixels);
            }
        }, () => embedder.Embed(images, progress));

    /// <summary>The file that holds (or would hold) the embeddings with this key.</summary>
    public string PathFor(string key) => Path.Combine(Directory, key + ".safetensors");

    float[][] GetOrCompute(string towerName, int dimension, int count, Action<IncrementalHash> hashItems, Func<float[][]> compute)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(towerName + "\n" + dimension + "\n" + count + "\n"));
        hashItems(hash);
        string key = $"{Sanitise(towerName)}-{count}-{Convert.ToHexString(hash.GetHashAndReset())[..24].ToLowerInvariant()}";
        string path = PathFor(key);
        if (File.Exists(path)) return Read(path, count, dimension);
        var vectors = compute();
        Write(path, vectors, dimension, towerName);
        return vectors;
    }

    static void AddItem(IncrementalHash hash, byte[] content)
    {
        // Length-prefixed so that ["ab", "c"] and ["a", "bc"] hash differently.
        hash.AppendData(BitConverter.GetBytes(content.Length));
        hash.AppendData(content);
    }

    static string Sanitise(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());

    void Write(string path, float[][] vectors, int dimension, string towerName)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var flat = new float[(long)vectors.Length * dimension];
        for (int i = 0; i < vectors.Length; i++)
        {
            if (vectors[i].Length != dimension) throw new InvalidOperationException($"Tower {towerName} returned {vectors[i].Length} values for item {i}, expected {dimension}.");
            vectors[i].CopyTo(flat, (long)i * dimension);
        }
        using var scope = NewDisposeScope();
        Safetensors.Save(path, [new("embeddings", tensor(flat, [vectors.Length, dimension]))],
            new Dictionary<string, string> { ["tower"] = towerName });
    }

    static float[][] Read(string path, int count, int dimension)
    {
        using var scope = NewDisposeScope();
        using var file = SafetensorsFile.Open(path);
        if (!file.Entries.TryGetValue("embeddings", out var entry) || entry.Shape.Length != 2 || entry.Shape[0] != count || entry.Shape[1] != dimension)
            throw new InvalidDataException($"Embedding cache file '{path}' does not hold a [{count}, {dimension}] 'embeddings' tensor; delete it to recompute.");
        var flat = file.Read("embeddings").data<float>().ToArray();
        var vectors = new float[count][];
        for (int i = 0; i < count; i++) vectors[i] = flat.AsSpan(i * dimension, dimension).ToArray();
        return vectors;
    }
}

using System.Security.Cryptography;
using System.Text;
using Farabi.IO;
using Farabi.Vision;
using static TorchSharp.torch;

namespace Farabi.Towers;

/// <summary>
/// Keeps the frozen towers' outputs on disk, item by item, so that a probe or projection trained many times
/// (seeds, losses, oversight rounds, class subsets) embeds each text or image once. Each tower has a folder of
/// shard files (safetensors: <c>keys</c> U8 [n, 16], the first 16 bytes of each item's SHA-256, and
/// <c>embeddings</c> F32 [n, d]); a call embeds only the items no shard holds and adds them as a new shard,
/// written to a temporary file and renamed, so concurrent runs never see half a shard.
/// </summary>
public sealed class EmbeddingCache
{
    const int KeyBytes = 16;

    /// <summary>A cache in <paramref name="directory"/> (default: <see cref="DefaultDirectory"/>).</summary>
    public EmbeddingCache(string? directory = null) => Directory = directory ?? DefaultDirectory;

    /// <summary>The folder holding one sub-folder of shards per tower.</summary>
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

    /// <summary>Embeddings of <paramref name="texts"/> by <paramref name="embedder"/>; cached items are read, the rest computed.</summary>
    public float[][] Embed(ITextEmbedder embedder, IReadOnlyList<string> texts, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var keys = texts.Select(t => Key(Encoding.UTF8.GetBytes(t), prefix: [])).ToArray();
        return GetOrCompute(embedder.Name, embedder.Dimension, keys, missing => embedder.Embed(missing.Select(i => texts[i]).ToArray(), progress));
    }

    /// <summary>Features of <paramref name="images"/> by <paramref name="embedder"/>; cached items are read, the rest computed.</summary>
    public float[][] Embed(IImageEmbedder embedder, IReadOnlyList<RgbImage> images, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        // The size is part of the key: the same bytes read as 32×48 or 48×32 are different images.
        var keys = images.Select(im => Key(im.Pixels, prefix: [.. BitConverter.GetBytes(im.Width), .. BitConverter.GetBytes(im.Height)])).ToArray();
        return GetOrCompute(embedder.Name, embedder.Dimension, keys, missing => embedder.Embed(missing.Select(i => images[i]).ToArray(), progress));
    }

    /// <summary>The folder of <paramref name="towerName"/>'s shards.</summary>
    public string TowerDirectory(string towerName) =>
        Path.Combine(Directory, new string(towerName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray()));

    static string Key(byte[] content, byte[] prefix)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(prefix);
        hash.AppendData(content);
        return Convert.ToHexString(hash.GetHashAndReset(), 0, KeyBytes);
    }

    float[][] GetOrCompute(string towerName, int dimension, string[] keys, Func<int[], float[][]> compute)
    {
        string folder = TowerDirectory(towerName);
        var known = ReadShards(folder, dimension);
        var result = new float[keys.Length][];
        var missing = new List<int>();
        var firstOfKey = new Dictionary<string, int>();
        for (int i = 0; i < keys.Length; i++)
        {
            if (known.TryGetValue(keys[i], out var v)) result[i] = v;
            else if (firstOfKey.TryAdd(keys[i], i)) missing.Add(i);
        }
        if (missing.Count > 0)
        {
            var computed = compute([.. missing]);
            for (int m = 0; m < missing.Count; m++)
            {
                if (computed[m].Length != dimension)
                    throw new InvalidOperationException($"Tower {towerName} returned {computed[m].Length} values for item {missing[m]}, expected {dimension}.");
                result[missing[m]] = computed[m];
            }
            WriteShard(folder, missing.Select(i => keys[i]).ToArray(), computed, dimension, towerName);
            // Repeated items take the vector of their first occurrence.
            for (int i = 0; i < keys.Length; i++) result[i] ??= result[firstOfKey[keys[i]]];
        }
        return result;
    }

    static Dictionary<string, float[]> ReadShards(string folder, int dimension)
    {
        var known = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (!System.IO.Directory.Exists(folder)) return known;
        foreach (var path in System.IO.Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            using var file = SafetensorsFile.Open(path);
            if (!file.Entries.TryGetValue("keys", out var k) || !file.Entries.TryGetValue("embeddings", out var e)
                || k.Shape.Length != 2 || k.Shape[1] != KeyBytes || e.Shape.Length != 2 || e.Shape[0] != k.Shape[0] || e.Shape[1] != dimension)
                throw new InvalidDataException($"Embedding cache shard '{path}' does not hold matching 'keys' [n, {KeyBytes}] and 'embeddings' [n, {dimension}] tensors; delete it to recompute.");
            var keyBytes = file.Read("keys").data<byte>().ToArray();
            var flat = file.Read("embeddings").data<float>().ToArray();
            for (int i = 0; i < k.Shape[0]; i++)
                known[Convert.ToHexString(keyBytes, i * KeyBytes, KeyBytes)] = flat.AsSpan(i * dimension, dimension).ToArray();
        }
        return known;
    }

    static void WriteShard(string folder, string[] keys, float[][] vectors, int dimension, string towerName)
    {
        System.IO.Directory.CreateDirectory(folder);
        var keyBytes = new byte[keys.Length * KeyBytes];
        var flat = new float[(long)keys.Length * dimension];
        for (int i = 0; i < keys.Length; i++)
        {
            Convert.FromHexString(keys[i]).CopyTo(keyBytes, i * KeyBytes);
            vectors[i].CopyTo(flat, (long)i * dimension);
        }
        using var scope = NewDisposeScope();
        string name = $"shard-{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}.safetensors";
        Safetensors.Save(Path.Combine(folder, name),
            [new("embeddings", tensor(flat, [keys.Length, dimension])), new("keys", tensor(keyBytes, [keys.Length, KeyBytes]))],
            new Dictionary<string, string> { ["tower"] = towerName });
    }
}

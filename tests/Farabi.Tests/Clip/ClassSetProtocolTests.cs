using Farabi.Models.Clip;
using Farabi.Research.Clip;
using Farabi.Testing;
using Farabi.Vision;
using Farabi.Vision.Datasets;
using Farabi.Vision.Scenes;
using Xunit;

namespace Farabi.Tests.Clip;

public sealed class ClassSetProtocolTests
{
    static LabeledImageSet Tiny()
    {
        string[] names = ["airplane", "cat", "dog", "truck"];
        var images = Enumerable.Range(0, 40).Select(i => RgbImage.Filled(4, 4, new Rgb((byte)i, 0, 0))).ToList();
        return new LabeledImageSet(images, images.Select((_, i) => i % 4).ToList(), names, "tiny");
    }

    [Fact]
    public void Held_out_classes_never_appear_in_training_captions_and_every_other_image_does()
    {
        var set = Tiny();
        var (seen, captions) = ClassSetProtocol.TrainingPairs(set, ["cat", "Truck"], PromptTemplates.Cifar10, seed: 4);
        Assert.Equal(20, seen.Count);
        Assert.Equal(seen.Count, captions.Count);
        var words = captions.SelectMany(CaptionWordTokenizer.Words).ToHashSet();
        Assert.DoesNotContain("cat", words);
        Assert.DoesNotContain("truck", words);
        Assert.Contains("airplane", words);
        for (var i = 0; i < seen.Count; i++) Assert.Contains(seen.ClassNames[seen.Labels[i]], captions[i]);
        // More than one template is drawn.
        Assert.True(captions.Distinct().Count() > 2);
    }

    [Fact]
    public void An_unknown_class_name_is_one_clear_error_listing_the_classes()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassSetProtocol.TrainingPairs(Tiny(), ["zebra"], PromptTemplates.Cifar10, 0));
        Assert.Contains("\"zebra\" is not a class of tiny", e.Message);
        Assert.Contains("airplane, cat, dog, truck", e.Message);
    }

    [Fact]
    public void Shape_twins_differ_from_their_scene_only_in_the_first_shape_and_stay_in_the_training_split()
    {
        var held = HeldOutCombinations.Parse(["purple triangle", "green star"]);
        var generator = new SceneGenerator(new SceneOptions { ImageSize = 32, MaxObjects = 1, HeldOut = held }, seed: 5);
        var scenes = ClipSceneExperiment.TwinScenes(generator, 200);
        Assert.Equal(200, scenes.Count);
        for (var i = 0; i < scenes.Count; i += 2)
        {
            var (a, b) = (scenes[i], scenes[i + 1]);
            Assert.NotEqual(a.Objects[0].Shape, b.Objects[0].Shape);
            Assert.Equal(a.Objects[0] with { Shape = b.Objects[0].Shape }, b.Objects[0]);
            Assert.Equal(a.Background, b.Background);
            Assert.False(held.Matches(b.Objects[0]), $"twin {b.Caption} is a held-out combination");
            Assert.NotEqual(a.Image.Pixels, b.Image.Pixels);
            // Only the shape words differ: the captions agree on everything before the shape.
            Assert.Equal(a.Caption[..a.Caption.IndexOf(SceneWords.Name(a.Objects[0].Colour))], b.Caption[..b.Caption.IndexOf(SceneWords.Name(b.Objects[0].Colour))]);
        }
        // The twin is reproducible and the scene itself is the ordinary scene of that index.
        Assert.Equal(scenes[1].Image.Pixels, generator.GenerateShapeTwin(scenes[0].Index)!.Image.Pixels);
        Assert.Equal(scenes[0].Image.Pixels, generator.Generate(scenes[0].Index).Image.Pixels);
    }

    [Fact]
    public void Grouped_batches_need_a_pair_count_divisible_by_the_group()
    {
        _ = new ClipConfig();
        var tokenizer = CaptionWordTokenizer.Build(["a red"], 6);
        var scorer = new ClipScorer(new ClipModel(ClipConfig.Tiny(tokenizer.VocabSize, 6, 16, 8, 16, 1, 2, 16)), tokenizer);
        var images = Enumerable.Range(0, 5).Select(i => RgbImage.Filled(16, 16, new Rgb((byte)(40 * i), 0, 0))).ToList();
        var e = Assert.Throws<ArgumentException>(() => ClipTraining.Train(scorer, images, images.Select(_ => "a red").ToList(), new ClipTrainingOptions { Steps = 1, GroupSize = 2 }));
        Assert.Contains("groups of 2", e.Message);
    }
}

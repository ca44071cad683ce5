using System.Diagnostics;
using Farabi.Vision;
using Farabi.Vision.Scenes;
using Xunit;

namespace Farabi.Tests.Vision;

public sealed class SceneGeneratorTests
{
    [Fact]
    public void Same_seed_and_index_give_the_same_scene_in_any_order()
    {
        var a = new SceneGenerator(new SceneOptions(), seed: 7);
        var b = new SceneGenerator(new SceneOptions(), seed: 7);
        var forward = a.GenerateMany(20).ToList();
        var s13 = b.Generate(13);
        Assert.Equal(forward[13].Image.Pixels, s13.Image.Pixels);
        Assert.Equal(forward[13].Caption, s13.Caption);
        Assert.Equal(forward[13].Objects, s13.Objects);
        var other = new SceneGenerator(new SceneOptions(), seed: 8).Generate(13);
        Assert.NotEqual(s13.Image.Pixels, other.Image.Pixels);
    }

    [Fact]
    public void A_single_large_red_circle_is_drawn_where_its_caption_says()
    {
        var gen = new SceneGenerator(new SceneOptions
        {
            ImageSize = 48, MinObjects = 1, MaxObjects = 1, Noise = 0, PositionJitter = 0, VariedCaptions = false,
            Shapes = [ShapeKind.Circle], Colours = [ShapeColour.Red],
        }, seed: 1);
        for (var i = 0; i < 30; i++)
        {
            var s = gen.Generate(i);
            var o = Assert.Single(s.Objects);
            Assert.Equal($"a {SceneWords.Name(o.Size)} red circle {CanonicalPlace(o.Position)}", s.Caption);
            // The cell centre is the shape colour; the opposite corner pixel is the background.
            var cx = (int)((int)o.Position % 3 * 16 + 8);
            var cy = (int)((int)o.Position / 3 * 16 + 8);
            Assert.Equal(SceneGenerator.ToRgb(ShapeColour.Red), s.Image[cx, cy]);
            var bg = SceneGenerator.ToRgb(s.Background);
            var far = o.Position == ShapePosition.BottomRight ? (0, 0) : (47, 47);
            Assert.Equal(bg, s.Image[far.Item1, far.Item2]);
            // Large shapes cover many more pixels than small ones.
            var red = CountColour(s.Image, SceneGenerator.ToRgb(ShapeColour.Red));
            Assert.True(o.Size == ShapeSize.Large ? red is >= 120 and <= 200 : red is >= 30 and <= 75, $"{o.Size}: {red} pixels");
        }
    }

    static string CanonicalPlace(ShapePosition p) => SceneWords.Canonical(new SceneObject(ShapeKind.Circle, ShapeColour.Red, ShapeSize.Small, p))["a small red circle ".Length..];

    static int CountColour(RgbImage img, Rgb c)
    {
        var n = 0;
        for (var y = 0; y < img.Height; y++) for (var x = 0; x < img.Width; x++) if (img[x, y] == c) n++;
        return n;
    }

    [Fact]
    public void Edges_are_anti_aliased_with_intermediate_colours()
    {
        var gen = new SceneGenerator(new SceneOptions { Noise = 0, MinObjects = 1, MaxObjects = 1, Shapes = [ShapeKind.Circle] }, seed: 3);
        var s = gen.Generate(0);
        var fg = SceneGenerator.ToRgb(s.Objects[0].Colour);
        var bg = SceneGenerator.ToRgb(s.Background);
        var mixed = 0;
        for (var y = 0; y < 64; y++) for (var x = 0; x < 64; x++) { var c = s.Image[x, y]; if (c != fg && c != bg) mixed++; }
        Assert.True(mixed > 5, $"expected blended edge pixels, found {mixed}");
    }

    [Fact]
    public void Training_split_never_shows_a_held_out_combination_and_the_held_out_split_always_does()
    {
        var heldOut = HeldOutCombinations.Parse("purple triangle", "large star");
        var gen = new SceneGenerator(new SceneOptions { ImageSize = 32, HeldOut = heldOut, MaxObjects = 3 }, seed: 11);
        // By construction: the training pool has no held-out object at all ...
        Assert.DoesNotContain(gen.TrainObjects, heldOut.Matches);
        Assert.All(gen.HeldOutObjects, o => Assert.True(heldOut.Matches(o)));
        Assert.Equal(6 * 6 * 2 * 9, gen.TrainObjects.Count + gen.HeldOutObjects.Count);
        // ... and so no drawn training scene has one, while every held-out scene has one.
        var train = gen.GenerateMany(800, SceneSplit.Train).ToList();
        Assert.DoesNotContain(train, s => s.Objects.Any(o => o.Colour == ShapeColour.Purple && o.Shape == ShapeKind.Triangle));
        Assert.DoesNotContain(train, s => s.Objects.Any(o => o.Size == ShapeSize.Large && o.Shape == ShapeKind.Star));
        // The parts of the combinations are still seen separately in training.
        Assert.Contains(train, s => s.Objects.Any(o => o.Colour == ShapeColour.Purple));
        Assert.Contains(train, s => s.Objects.Any(o => o.Shape == ShapeKind.Triangle));
        Assert.Contains(train, s => s.Objects.Any(o => o.Shape == ShapeKind.Star));
        var test = gen.GenerateMany(200, SceneSplit.HeldOut).ToList();
        Assert.All(test, s => Assert.True(heldOut.Touches(s.Objects)));
        Assert.Contains(test, s => s.Objects.Any(o => o.Colour == ShapeColour.Purple && o.Shape == ShapeKind.Triangle));
        Assert.Contains(test, s => s.Objects.Any(o => o.Size == ShapeSize.Large && o.Shape == ShapeKind.Star));
        // Different streams: scene 0 of each split differs.
        Assert.NotEqual(train[0].Image.Pixels, test[0].Image.Pixels);
    }

    [Fact]
    public void Two_objects_never_share_a_cell_and_both_are_in_the_caption()
    {
        var gen = new SceneGenerator(new SceneOptions { MinObjects = 2, MaxObjects = 2, VariedCaptions = false }, seed: 5);
        foreach (var s in gen.GenerateMany(200))
        {
            Assert.Equal(2, s.Objects.Count);
            Assert.NotEqual(s.Objects[0].Position, s.Objects[1].Position);
            Assert.Equal(SceneWords.Canonical(s.Objects[0]) + " and " + SceneWords.Canonical(s.Objects[1]), s.Caption);
        }
    }

    [Fact]
    public void Varied_captions_use_synonyms_but_always_name_the_colour()
    {
        var gen = new SceneGenerator(new SceneOptions { MaxObjects = 1 }, seed: 2);
        var scenes = gen.GenerateMany(300).ToList();
        Assert.All(scenes, s => Assert.Contains(SceneWords.Name(s.Objects[0].Colour), s.Caption));
        var captions = scenes.Select(s => s.Caption).ToHashSet();
        Assert.Contains(captions, c => c.Contains("little ") || c.Contains("tiny "));
        Assert.Contains(captions, c => c.Contains(" background"));
        Assert.Contains(captions, c => !c.StartsWith("a ") && !c.StartsWith("an ") && !c.StartsWith("one "));
    }

    [Fact]
    public void One_object_scenes_form_a_classification_set_whose_held_out_classes_are_unseen_in_training()
    {
        var gen = new SceneGenerator(new SceneOptions { MaxObjects = 1, ImageSize = 32, HeldOut = HeldOutCombinations.Parse("purple triangle") }, seed: 4);
        var train = gen.ToLabeledSet(300);
        var test = gen.ToLabeledSet(20, SceneSplit.HeldOut);
        Assert.Equal(36, train.ClassNames.Count);
        var purpleTriangle = train.ClassNames.ToList().IndexOf("purple triangle");
        Assert.DoesNotContain(purpleTriangle, train.Labels);
        Assert.All(test.Labels, l => Assert.Equal(purpleTriangle, l));
        Assert.Equal(["a photo of a purple triangle."], test.Captions().Distinct());
        Assert.Throws<ArgumentException>(() => new SceneGenerator(new SceneOptions { MaxObjects = 2 }).ToLabeledSet(1));
    }

    [Fact]
    public void Parsing_held_out_combinations()
    {
        Assert.Equal(new AttributeCombination(ShapeKind.Triangle, ShapeColour.Purple), AttributeCombination.Parse("purple triangle"));
        Assert.Equal(new AttributeCombination(Colour: ShapeColour.Blue, Position: ShapePosition.TopLeft), AttributeCombination.Parse("Blue top left"));
        Assert.Equal("large star", AttributeCombination.Parse("star large").ToString());
        Assert.Contains("hexagon", Assert.Throws<FormatException>(() => AttributeCombination.Parse("red hexagon")).Message);
        Assert.Throws<FormatException>(() => AttributeCombination.Parse("red blue"));
        Assert.Throws<ArgumentException>(() => new SceneGenerator(new SceneOptions { HeldOut = HeldOutCombinations.Parse("red"), Colours = [ShapeColour.Red] }));
    }

    [Fact]
    public void Thousands_of_scenes_per_cpu_second()
    {
        var gen = new SceneGenerator(new SceneOptions { ImageSize = 64 }, seed: 0);
        gen.GenerateMany(50).ToList();
        // This thread's CPU time, not wall time or the process's: the machine is shared and other tests
        // run in parallel in this process, and neither must fail (or pass) this test.
        var cpu0 = ThreadCpuSeconds();
        var n = gen.GenerateMany(1000).Count();
        var perCpuSecond = n / Math.Max(ThreadCpuSeconds() - cpu0, 1e-6);
        Assert.True(perCpuSecond > 1000, $"{perCpuSecond:F0} scenes per CPU second");
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    static double ThreadCpuSeconds()
    {
        const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID on Linux
        Assert.Equal(0, ClockGetTime(ClockThreadCpuTime, out var t));
        return t.Seconds + t.Nanoseconds * 1e-9;
    }
}

using Farabi.Vision.Datasets;

namespace Farabi.Vision.Scenes;

/// <summary>Which side of a held-out split a scene is drawn for.</summary>
public enum SceneSplit
{
    /// <summary>No object matches a held-out combination.</summary>
    Train,
    /// <summary>Every scene holds at least one object that matches a held-out combination.</summary>
    HeldOut,
}

/// <summary>What the class of a one-object scene is, when scenes are used as a classification set.</summary>
public enum SceneLabel
{
    /// <summary>"purple triangle": the compositional label held-out combinations are about.</summary>
    ColourShape,
    /// <summary>"triangle".</summary>
    Shape,
    /// <summary>"purple".</summary>
    Colour,
}

/// <summary>Settings of the procedural scene generator.</summary>
public sealed record SceneOptions
{
    /// <summary>Side of the square images in pixels (32 and 64 are the usual choices).</summary>
    public int ImageSize { get; init; } = 64;

    /// <summary>Fewest shapes per scene.</summary>
    public int MinObjects { get; init; } = 1;

    /// <summary>Most shapes per scene (at most 9: one per grid cell).</summary>
    public int MaxObjects { get; init; } = 2;

    /// <summary>Background noise: each channel of each background pixel moves by a uniform amount up to this fraction of 255.</summary>
    public double Noise { get; init; } = 0.04;

    /// <summary>Shape centres move by up to this fraction of a grid cell, so positions are not pixel-identical.</summary>
    public double PositionJitter { get; init; } = 0.12;

    /// <summary>Captions use synonyms, optional articles, prefixes and background mentions; false gives canonical captions only.</summary>
    public bool VariedCaptions { get; init; } = true;

    /// <summary>Combinations the training split never shows.</summary>
    public HeldOutCombinations HeldOut { get; init; } = HeldOutCombinations.None;

    /// <summary>The shapes drawn; all by default.</summary>
    public IReadOnlyList<ShapeKind> Shapes { get; init; } = Enum.GetValues<ShapeKind>();

    /// <summary>The colours drawn; all by default.</summary>
    public IReadOnlyList<ShapeColour> Colours { get; init; } = Enum.GetValues<ShapeColour>();
}

/// <summary>
/// Draws small RGB scenes of one or more shapes with a caption from a grammar ("a small red circle at
/// the top left") and the structured attributes behind it: CLIP's built-in data set, made on the spot.
/// Scene <c>i</c> of a split depends only on (seed, split, i), so any slice can be regenerated alone,
/// in any order, on any machine.
/// </summary>
public sealed class SceneGenerator
{
    /// <summary>The settings in use.</summary>
    public SceneOptions Options { get; }

    /// <summary>The seed every scene is derived from.</summary>
    public long Seed { get; }

    readonly SceneObject[] _trainObjects;
    readonly SceneObject[] _heldOutObjects;
    readonly SceneObject[] _allObjects;

    /// <summary>Creates a generator; checks that both splits can be drawn.</summary>
    public SceneGenerator(SceneOptions? options = null, long seed = 0)
    {
        Options = options ?? new SceneOptions();
        Seed = seed;
        var o = Options;
        if (o.ImageSize < 16 || o.ImageSize > 1024) throw new ArgumentException($"the scene image size must be between 16 and 1024 pixels, not {o.ImageSize}.");
        if (o.MinObjects < 1 || o.MaxObjects < o.MinObjects || o.MaxObjects > 9)
            throw new ArgumentException($"scenes need 1 <= min objects <= max objects <= 9, not {o.MinObjects}..{o.MaxObjects}.");
        if (o.Noise < 0 || o.Noise > 1) throw new ArgumentException($"the scene noise must be in [0, 1], not {o.Noise}.");
        if (o.Shapes.Count == 0 || o.Colours.Count == 0) throw new ArgumentException("scenes need at least one shape and one colour.");
        var all = (from s in o.Shapes.Distinct() from c in o.Colours.Distinct() from z in Enum.GetValues<ShapeSize>()
                   from p in Enum.GetValues<ShapePosition>() select new SceneObject(s, c, z, p)).ToArray();
        // The split is made by enumeration, not by rejection: the training pool simply does not contain a
        // held-out object, so no draw from it can leak one.
        _trainObjects = all.Where(x => !o.HeldOut.Matches(x)).ToArray();
        _heldOutObjects = all.Where(o.HeldOut.Matches).ToArray();
        _allObjects = all;
        if (_trainObjects.Length == 0) throw new ArgumentException($"the held-out combinations ({o.HeldOut}) leave nothing to train on.");
        if (!o.HeldOut.IsEmpty && _heldOutObjects.Length == 0)
            throw new ArgumentException($"no drawable object matches the held-out combinations ({o.HeldOut}); check the shapes and colours.");
    }

    /// <summary>Every object the training split can draw.</summary>
    public IReadOnlyList<SceneObject> TrainObjects => _trainObjects;

    /// <summary>Every object matching a held-out combination.</summary>
    public IReadOnlyList<SceneObject> HeldOutObjects => _heldOutObjects;

    /// <summary>Draws scene <paramref name="index"/> of <paramref name="split"/>.</summary>
    public Scene Generate(long index, SceneSplit split = SceneSplit.Train) => Generate(index, split, shapeTwin: false)!;

    /// <summary>
    /// The shape twin of scene <paramref name="index"/>: the same scene (background, noise, position jitter, caption
    /// wording) with the first-named object drawn as another shape, chosen among the shapes that keep it in
    /// <paramref name="split"/>'s pool (so a training twin is never a held-out combination); null when no other shape
    /// does. A scene and its twin differ only in one shape and one word, the hard negative that makes contrastive
    /// training attend to shape (in a random batch colour, size and position already tell the pairs apart).
    /// </summary>
    public Scene? GenerateShapeTwin(long index, SceneSplit split = SceneSplit.Train) => Generate(index, split, shapeTwin: true);

    Scene? Generate(long index, SceneSplit split, bool shapeTwin)
    {
        if (split == SceneSplit.HeldOut && Options.HeldOut.IsEmpty)
            throw new ArgumentException("the held-out split needs at least one held-out combination.");
        var rng = SceneRandom.For(Seed, split == SceneSplit.Train ? 1UL : 2UL, index);
        var count = Options.MinObjects + rng.Next(Options.MaxObjects - Options.MinObjects + 1);
        var objects = new List<SceneObject>(count);
        var used = new HashSet<ShapePosition>();
        for (var k = 0; k < count; k++)
        {
            // In the held-out split the first object is the held-out one; later objects may be anything.
            var pool = split == SceneSplit.HeldOut ? (k == 0 ? _heldOutObjects : _allObjects) : _trainObjects;
            var chosen = PickFree(pool, used, rng);
            if (chosen is null) break;
            used.Add(chosen.Position);
            objects.Add(chosen);
        }
        // Shuffle so the held-out object is not always named first.
        for (var i = objects.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (objects[i], objects[j]) = (objects[j], objects[i]);
        }
        if (shapeTwin)
        {
            // A separate stream picks the twin's shape, so the scene's own draws below stay exactly the scene's.
            var first = objects[0];
            var pool = split == SceneSplit.Train ? _trainObjects : _allObjects;
            var shapes = Options.Shapes.Distinct().Where(s => s != first.Shape && pool.Contains(first with { Shape = s })).ToList();
            if (shapes.Count == 0) return null;
            objects[0] = first with { Shape = shapes[SceneRandom.For(Seed, 3UL, index).Next(shapes.Count)] };
        }
        var background = (BackgroundColour)rng.Next(3);
        var image = Draw(objects, background, rng);
        var caption = Caption(objects, background, rng);
        return new Scene(image, caption, objects, background, index);
    }

    /// <summary>A uniform draw from the pool's objects whose cell is still free (null when none is).</summary>
    static SceneObject? PickFree(SceneObject[] pool, HashSet<ShapePosition> used, SceneRandom rng)
    {
        // Rejection is cheap while most cells are free; the exact filter is the fallback. Both are uniform
        // over the free objects and both depend only on the generator's state, so scenes stay deterministic.
        for (var attempt = 0; attempt < 16; attempt++)
        {
            var candidate = pool[rng.Next(pool.Length)];
            if (!used.Contains(candidate.Position)) return candidate;
        }
        var free = pool.Where(x => !used.Contains(x.Position)).ToArray();
        return free.Length == 0 ? null : free[rng.Next(free.Length)];
    }

    /// <summary>Draws scenes <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1.</summary>
    public IEnumerable<Scene> GenerateMany(int count, SceneSplit split = SceneSplit.Train, long start = 0)
    {
        for (var i = 0; i < count; i++) yield return Generate(start + i, split);
    }

    /// <summary>
    /// Scenes as a classification set for zero-shot and linear-probe evaluation: needs one object per scene
    /// (<see cref="SceneOptions.MaxObjects"/> = 1). Class names are every value the options allow, e.g. all
    /// "colour shape" pairs, in enum order, so the held-out split's classes are among them and a
    /// classifier over all names is scored on combinations it never saw.
    /// </summary>
    public LabeledImageSet ToLabeledSet(int count, SceneSplit split = SceneSplit.Train, SceneLabel label = SceneLabel.ColourShape, long start = 0)
    {
        if (Options.MaxObjects != 1) throw new ArgumentException("a scene classification set needs one object per scene (MaxObjects = 1).");
        var names = label switch
        {
            SceneLabel.ColourShape => (from c in Options.Colours.Distinct() from s in Options.Shapes.Distinct() select $"{SceneWords.Name(c)} {SceneWords.Name(s)}").ToList(),
            SceneLabel.Shape => Options.Shapes.Distinct().Select(SceneWords.Name).ToList(),
            _ => Options.Colours.Distinct().Select(SceneWords.Name).ToList(),
        };
        var index = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        var images = new List<RgbImage>(count);
        var labels = new List<int>(count);
        foreach (var scene in GenerateMany(count, split, start))
        {
            var o = scene.Objects[0];
            var name = label switch
            {
                SceneLabel.ColourShape => $"{SceneWords.Name(o.Colour)} {SceneWords.Name(o.Shape)}",
                SceneLabel.Shape => SceneWords.Name(o.Shape),
                _ => SceneWords.Name(o.Colour),
            };
            images.Add(scene.Image);
            labels.Add(index[name]);
        }
        return new LabeledImageSet(images, labels, names, $"scenes (seed {Seed}, {split})");
    }

    /// <summary>The colour a shape colour is drawn in.</summary>
    public static Rgb ToRgb(ShapeColour c) => c switch
    {
        ShapeColour.Red => new Rgb(220, 30, 35),
        ShapeColour.Green => new Rgb(35, 170, 60),
        ShapeColour.Blue => new Rgb(40, 85, 225),
        ShapeColour.Yellow => new Rgb(245, 215, 40),
        ShapeColour.Purple => new Rgb(140, 55, 190),
        ShapeColour.Orange => new Rgb(250, 140, 25),
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    /// <summary>The colour a background is drawn in (before noise).</summary>
    public static Rgb ToRgb(BackgroundColour b) => b switch
    {
        BackgroundColour.Black => new Rgb(18, 18, 18),
        BackgroundColour.White => new Rgb(240, 240, 240),
        BackgroundColour.Grey => new Rgb(128, 128, 128),
        _ => throw new ArgumentOutOfRangeException(nameof(b)),
    };

    RgbImage Draw(List<SceneObject> objects, BackgroundColour background, SceneRandom rng)
    {
        var size = Options.ImageSize;
        var image = RgbImage.Filled(size, size, ToRgb(background));
        var amplitude = (int)Math.Round(Options.Noise * 255);
        if (amplitude > 0)
        {
            var p = image.Pixels;
            for (var i = 0; i < p.Length; i++)
                p[i] = (byte)Math.Clamp(p[i] + rng.Next(2 * amplitude + 1) - amplitude, 0, 255);
        }
        var cell = size / 3.0;
        foreach (var o in objects)
        {
            var col = (int)o.Position % 3;
            var row = (int)o.Position / 3;
            var radius = cell * (o.Size == ShapeSize.Small ? 0.28 : 0.46);
            // Jitter within what keeps the shape inside its cell.
            var room = Math.Max(0, Math.Min(Options.PositionJitter * cell, cell / 2 - radius));
            var cx = (col + 0.5) * cell + (rng.NextDouble() * 2 - 1) * room;
            var cy = (row + 0.5) * cell + (rng.NextDouble() * 2 - 1) * room;
            ShapeRasterizer.Fill(image, o.Shape, cx, cy, radius, ToRgb(o.Colour));
        }
        return image;
    }

    static readonly string[] Articles = ["a", "a", "one", ""];
    static readonly string[] Prefixes = ["", "", "", "a picture of ", "an image of ", "a drawing of "];

    string Caption(List<SceneObject> objects, BackgroundColour background, SceneRandom rng)
    {
        if (!Options.VariedCaptions) return string.Join(" and ", objects.Select(SceneWords.Canonical));
        var parts = objects.Select(o =>
        {
            var article = rng.Pick(Articles);
            var words = $"{rng.Pick(SceneWords.SizeSynonyms[o.Size])} {SceneWords.Name(o.Colour)} {rng.Pick(SceneWords.ShapeSynonyms[o.Shape])}";
            return $"{(article.Length > 0 ? article + " " : "")}{words} {rng.Pick(SceneWords.PositionPhrases[o.Position])}";
        });
        var caption = rng.Pick(Prefixes) + string.Join(" and ", parts);
        if (rng.Next(4) == 0) caption += $" on a {SceneWords.Name(background)} background";
        return caption;
    }
}

namespace Farabi.Vision.Scenes;

/// <summary>
/// A conjunction of attribute values, e.g. "purple triangle" (colour purple AND shape triangle); an
/// unspecified attribute matches anything.
/// </summary>
public sealed record AttributeCombination(ShapeKind? Shape = null, ShapeColour? Colour = null, ShapeSize? Size = null, ShapePosition? Position = null)
{
    /// <summary>Whether <paramref name="o"/> has every value this combination names.</summary>
    public bool Matches(SceneObject o) =>
        (Shape is null || Shape == o.Shape) && (Colour is null || Colour == o.Colour) &&
        (Size is null || Size == o.Size) && (Position is null || Position == o.Position);

    /// <summary>
    /// Parses words such as "purple triangle", "large star", "blue top left": each attribute at most
    /// once, canonical words only (see <see cref="SceneWords"/>).
    /// </summary>
    public static AttributeCombination Parse(string text)
    {
        var words = text.Trim().ToLowerInvariant().Split([' ', '\t', '-', '_'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) throw new FormatException("a held-out combination needs at least one attribute word, e.g. \"purple triangle\".");
        ShapeKind? shape = null; ShapeColour? colour = null; ShapeSize? size = null; ShapePosition? position = null;
        for (var i = 0; i < words.Length; i++)
        {
            string w = words[i] == "center" ? "centre" : words[i];
            // Two-word positions first ("top left"), then single words.
            var two = i + 1 < words.Length ? $"{w} {words[i + 1]}" : null;
            var pos2 = two is null ? null : Find(Enum.GetValues<ShapePosition>(), SceneWords.Name, two);
            if (pos2 is not null) { Set(ref position, pos2.Value, text); i++; continue; }
            if (Find(Enum.GetValues<ShapeKind>(), SceneWords.Name, w) is { } s) Set(ref shape, s, text);
            else if (Find(Enum.GetValues<ShapeColour>(), SceneWords.Name, w) is { } c) Set(ref colour, c, text);
            else if (Find(Enum.GetValues<ShapeSize>(), SceneWords.Name, w) is { } z) Set(ref size, z, text);
            else if (Find(Enum.GetValues<ShapePosition>(), SceneWords.Name, w) is { } p) Set(ref position, p, text);
            else
                throw new FormatException($"\"{words[i]}\" in the held-out combination \"{text}\" is not a shape, colour, size or position word " +
                    $"(shapes: {string.Join(", ", Enum.GetValues<ShapeKind>().Select(SceneWords.Name))}; colours: {string.Join(", ", Enum.GetValues<ShapeColour>().Select(SceneWords.Name))}).");
        }
        return new AttributeCombination(shape, colour, size, position);
    }

    static T? Find<T>(T[] values, Func<T, string> name, string word) where T : struct
    {
        foreach (var v in values) if (name(v) == word) return v;
        return null;
    }

    static void Set<T>(ref T? slot, T value, string text) where T : struct
    {
        if (slot is not null) throw new FormatException($"the held-out combination \"{text}\" names two values of the same attribute.");
        slot = value;
    }

    /// <summary>The canonical words, e.g. "purple triangle".</summary>
    public override string ToString() => string.Join(" ", new[]
    {
        Size is { } z ? SceneWords.Name(z) : null, Colour is { } c ? SceneWords.Name(c) : null,
        Shape is { } s ? SceneWords.Name(s) : null, Position is { } p ? SceneWords.Name(p) : null,
    }.Where(x => x != null));
}

/// <summary>
/// Attribute combinations kept out of training to measure compositional generalisation: the training
/// split never draws an object that matches any of them, and the held-out split puts one in every scene.
/// </summary>
public sealed class HeldOutCombinations
{
    /// <summary>The combinations.</summary>
    public IReadOnlyList<AttributeCombination> Combinations { get; }

    /// <summary>No combination held out.</summary>
    public static HeldOutCombinations None { get; } = new([]);

    /// <summary>Holds out the given combinations.</summary>
    public HeldOutCombinations(IEnumerable<AttributeCombination> combinations) => Combinations = combinations.ToList();

    /// <summary>Parses one combination per string, e.g. <c>Parse("purple triangle", "large star")</c>.</summary>
    public static HeldOutCombinations Parse(params IEnumerable<string> texts) => new(texts.Select(AttributeCombination.Parse));

    /// <summary>Whether nothing is held out.</summary>
    public bool IsEmpty => Combinations.Count == 0;

    /// <summary>Whether the object matches a held-out combination.</summary>
    public bool Matches(SceneObject o)
    {
        foreach (var c in Combinations) if (c.Matches(o)) return true;
        return false;
    }

    /// <summary>Whether any object of the scene matches a held-out combination.</summary>
    public bool Touches(IEnumerable<SceneObject> objects) => objects.Any(Matches);

    /// <summary>Comma-separated canonical words.</summary>
    public override string ToString() => IsEmpty ? "none" : string.Join(", ", Combinations);
}

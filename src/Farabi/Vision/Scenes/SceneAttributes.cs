namespace Farabi.Vision.Scenes;

/// <summary>The shapes a procedural scene can hold.</summary>
public enum ShapeKind { Circle, Square, Triangle, Star, Diamond, Cross }

/// <summary>The colours a shape can have.</summary>
public enum ShapeColour { Red, Green, Blue, Yellow, Purple, Orange }

/// <summary>Small shapes span about half a grid cell, large ones nearly all of it.</summary>
public enum ShapeSize { Small, Large }

/// <summary>Where a shape sits: one cell of a 3 x 3 grid.</summary>
public enum ShapePosition { TopLeft, Top, TopRight, Left, Centre, Right, BottomLeft, Bottom, BottomRight }

/// <summary>Background colours; none of them is a shape colour, so shapes always stand out.</summary>
public enum BackgroundColour { Black, White, Grey }

/// <summary>One shape of a scene, by its attributes.</summary>
public sealed record SceneObject(ShapeKind Shape, ShapeColour Colour, ShapeSize Size, ShapePosition Position)
{
    /// <summary>The canonical noun phrase without article, e.g. "small red circle".</summary>
    public override string ToString() => $"{SceneWords.Name(Size)} {SceneWords.Name(Colour)} {SceneWords.Name(Shape)} at {SceneWords.Name(Position)}";
}

/// <summary>A drawn scene: the image, its caption and the attributes it was drawn from.</summary>
public sealed record Scene(RgbImage Image, string Caption, IReadOnlyList<SceneObject> Objects, BackgroundColour Background, long Index);

/// <summary>
/// The words of the scene grammar: one canonical word per attribute value (used in prompts and in
/// held-out combinations) and the synonyms captions may use instead.
/// </summary>
public static class SceneWords
{
    /// <summary>Canonical word of a shape.</summary>
    public static string Name(ShapeKind s) => s switch
    {
        ShapeKind.Circle => "circle", ShapeKind.Square => "square", ShapeKind.Triangle => "triangle",
        ShapeKind.Star => "star", ShapeKind.Diamond => "diamond", ShapeKind.Cross => "cross",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    /// <summary>Canonical word of a colour.</summary>
    public static string Name(ShapeColour c) => c.ToString().ToLowerInvariant();

    /// <summary>Canonical word of a size.</summary>
    public static string Name(ShapeSize s) => s == ShapeSize.Small ? "small" : "large";

    /// <summary>Canonical word of a background colour.</summary>
    public static string Name(BackgroundColour b) => b.ToString().ToLowerInvariant();

    /// <summary>Canonical words of a position ("top left", "centre", ...).</summary>
    public static string Name(ShapePosition p) => p switch
    {
        ShapePosition.TopLeft => "top left", ShapePosition.Top => "top", ShapePosition.TopRight => "top right",
        ShapePosition.Left => "left", ShapePosition.Centre => "centre", ShapePosition.Right => "right",
        ShapePosition.BottomLeft => "bottom left", ShapePosition.Bottom => "bottom", ShapePosition.BottomRight => "bottom right",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    internal static readonly IReadOnlyDictionary<ShapeKind, string[]> ShapeSynonyms = new Dictionary<ShapeKind, string[]>
    {
        [ShapeKind.Circle] = ["circle", "disc", "round shape"],
        [ShapeKind.Square] = ["square", "box"],
        [ShapeKind.Triangle] = ["triangle"],
        [ShapeKind.Star] = ["star"],
        [ShapeKind.Diamond] = ["diamond", "rhombus"],
        [ShapeKind.Cross] = ["cross", "plus sign"],
    };

    internal static readonly IReadOnlyDictionary<ShapeSize, string[]> SizeSynonyms = new Dictionary<ShapeSize, string[]>
    {
        [ShapeSize.Small] = ["small", "little", "tiny"],
        [ShapeSize.Large] = ["large", "big"],
    };

    /// <summary>Prepositional phrases for a position; the first is canonical.</summary>
    internal static readonly IReadOnlyDictionary<ShapePosition, string[]> PositionPhrases = new Dictionary<ShapePosition, string[]>
    {
        [ShapePosition.TopLeft] = ["at the top left", "in the top left corner", "in the upper left"],
        [ShapePosition.Top] = ["at the top", "at the top centre", "in the upper middle"],
        [ShapePosition.TopRight] = ["at the top right", "in the top right corner", "in the upper right"],
        [ShapePosition.Left] = ["on the left", "at the left", "at the middle left"],
        [ShapePosition.Centre] = ["in the centre", "in the middle", "at the center"],
        [ShapePosition.Right] = ["on the right", "at the right", "at the middle right"],
        [ShapePosition.BottomLeft] = ["at the bottom left", "in the bottom left corner", "in the lower left"],
        [ShapePosition.Bottom] = ["at the bottom", "at the bottom centre", "in the lower middle"],
        [ShapePosition.BottomRight] = ["at the bottom right", "in the bottom right corner", "in the lower right"],
    };

    /// <summary>The canonical phrase for an object: "a small red circle at the top left".</summary>
    public static string Canonical(SceneObject o) =>
        $"a {Name(o.Size)} {Name(o.Colour)} {Name(o.Shape)} {PositionPhrases[o.Position][0]}";
}

namespace Farabi.Tokenizers.Normalizers;

/// <summary>
/// Rewrites text before pre-tokenization so that spellings which mean the same thing become the
/// same bytes (e.g. Arabic and Persian forms of yeh). A vocabulary remembers its normalizer by
/// <see cref="Name"/>, and <see cref="FromName"/> rebuilds it, so encoding later normalizes the
/// same way training did.
/// </summary>
public abstract class Normalizer
{
    /// <summary>
    /// A name that identifies the normalizer and its settings, stored in saved vocabularies
    /// (e.g. "persian", or "persian:digits=latin" when options differ from the defaults).
    /// </summary>
    public abstract string Name { get; }

    /// <summary>Returns the normalized form of <paramref name="text"/>.</summary>
    public abstract string Normalize(string text);

    /// <summary>The Persian normalizer with its default settings (<see cref="PersianNormalizer.Default"/>).</summary>
    public static Normalizer Persian => PersianNormalizer.Default;

    /// <summary>
    /// Rebuilds a normalizer from its <see cref="Name"/>. Null, empty or "none" give null (no normalization).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a known normalizer or has a bad setting.</exception>
    public static Normalizer? FromName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name == "none") return null;
        if (name == "persian" || name.StartsWith("persian:", StringComparison.Ordinal))
            return new PersianNormalizer(PersianNormalizerOptions.Parse(name));
        throw new ArgumentException($"Unknown normalizer '{name}'; expected 'persian' or 'none'.", nameof(name));
    }
}

namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// What <see cref="BpeTokenizer.Encode(string, SpecialTokenPolicy)"/> does with special tokens such as
/// <c>&lt;|endoftext|&gt;</c> written in the text, following tiktoken's <c>allowed_special</c> /
/// <c>disallowed_special</c>: an allowed special becomes its id; a disallowed one is an error naming it
/// (so text from users cannot smuggle control tokens in); any other is encoded as ordinary text.
/// </summary>
public sealed class SpecialTokenPolicy
{
    SpecialTokenPolicy(bool allowAll, IReadOnlySet<string>? allowed, bool disallowOthers, IReadOnlySet<string>? disallowed)
    {
        AllowsAll = allowAll;
        Allowed = allowed ?? new HashSet<string>();
        DisallowOthers = disallowOthers;
        Disallowed = disallowed ?? new HashSet<string>();
    }

    internal bool AllowsAll { get; }
    internal IReadOnlySet<string> Allowed { get; }
    internal bool DisallowOthers { get; }
    internal IReadOnlySet<string> Disallowed { get; }

    /// <summary>tiktoken's default: no special is allowed and any special in the text is an error.</summary>
    public static SpecialTokenPolicy DisallowAll { get; } = new(false, null, true, null);

    /// <summary>Every special token in the text becomes its id.</summary>
    public static SpecialTokenPolicy AllowAll { get; } = new(true, null, false, null);

    /// <summary>Special tokens are not recognised: their text is encoded like any other (tiktoken's <c>encode_ordinary</c>).</summary>
    public static SpecialTokenPolicy AsText { get; } = new(false, null, false, null);

    /// <summary>
    /// Allows <paramref name="allowed"/>; <paramref name="disallowed"/> null means every other special is
    /// disallowed (tiktoken's <c>disallowed_special="all"</c>), an empty set means the others are text.
    /// </summary>
    public static SpecialTokenPolicy Allow(IEnumerable<string> allowed, IEnumerable<string>? disallowed = null) =>
        new(false, allowed.ToHashSet(StringComparer.Ordinal), disallowed == null,
            disallowed?.ToHashSet(StringComparer.Ordinal));
}

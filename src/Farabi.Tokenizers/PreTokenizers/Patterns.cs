namespace Farabi.Tokenizers.PreTokenizers;

/// <summary>
/// The regular expressions of tiktoken's encodings, verbatim (tiktoken_ext/openai_public.py). Farabi
/// never runs them: the pre-tokenizers hand-compile them over code points. They are written into
/// exported <c>tokenizer.json</c> files and used to recognise imported ones.
/// </summary>
public static class Patterns
{
    /// <summary>GPT-2 / r50k_base / p50k_base.</summary>
    public const string Gpt2 = @"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s";

    /// <summary>cl100k_base.</summary>
    public const string Cl100k = @"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

    /// <summary>o200k_base.</summary>
    public const string O200k =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        + @"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        + @"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>
    /// <paramref name="pattern"/> spelled so that Oniguruma (the regex engine of HF tokenizers) matches
    /// as tiktoken does: there <c>{1,3}+</c> means "one or more runs of 1-3" rather than a possessive
    /// <c>{1,3}</c> (it would keep "1500" whole), and <c>$</c> also matches before a newline; <c>\z</c>
    /// is the end of the text in both.
    /// </summary>
    public static string ForHuggingFace(string pattern) => pattern.Replace("}+", "}").Replace(@"\s++$", @"\s++\z");

    /// <summary>Earlier spellings of the same patterns (before tiktoken made quantifiers possessive), as found in older files.</summary>
    internal static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        [Gpt2] = "gpt2",
        [ForHuggingFace(Gpt2)] = "gpt2",
        [@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"] = "gpt2",
        [Cl100k] = "cl100k_base",
        [ForHuggingFace(Cl100k)] = "cl100k_base",
        [@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"] = "cl100k_base",
        [O200k] = "o200k_base",
    };
}

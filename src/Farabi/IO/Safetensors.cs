using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Farabi.IO;

/// <summary>
/// One tensor's entry in a safetensors header: its stored dtype (e.g. <c>F32</c>, <c>BF16</c>), shape and
/// byte range relative to the start of the data section.
/// </summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>What <see cref="Safetensors.LoadInto"/> did: the keys of the file the module has no place for, and
/// the module's tensors the file did not provide.</summary>
public sealed record StateLoadReport(IReadOnlyList<string> Unexpected, IReadOnlyList<string> Missing, int Loaded);

/// <summary>
/// Reader and writer for the safetensors format (huggingface/safetensors): an 8-byte little-endian header
/// length, a JSON header mapping each name to <c>{dtype, shape, data_offsets}</c> (plus an optional
/// <c>__metadata__</c> map of strings), then the raw little-endian tensor bytes. Hugging Face checkpoints
/// use it, so a model saved here loads in Python and the other way round.
/// </summary>
/// <remarks>
/// Reading keeps the file open and copies one tensor at a time straight from disk into a freshly allocated
/// tensor, so loading a model into a module never holds more than one extra tensor in memory.
/// Floating tensors stored as F16/BF16/F64 are converted to fp32 (Farabi computes in fp32); integer
/// and boolean tensors keep their type.
/// </remarks>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Headers bigger than this are refused as corrupt (the reference implementation uses 100 MB).</summary>
    const long MaxHeaderBytes = 100_000_000;

    readonly FileStream stream;
    readonly long dataStart;

    /// <summary>The file this reader reads.</summary>
    public string Path { get; }

    /// <summary>The tensors in the file, by name, in header order.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafetensorsFile(string path, FileStream stream, long dataStart, Dictionary<string, SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path; this.stream = stream; this.dataStart = dataStart; Entries = entries; Metadata = metadata;
    }

    /// <summary>Opens and validates <paramref name="path"/>: header syntax, dtypes, shapes against byte sizes,
    /// offsets inside the file, no overlapping or duplicate tensors.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message says why.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        try
        {
            var (dataStart, entries, metadata) = ReadHeader(path, stream);
            return new SafetensorsFile(path, stream, dataStart, entries, metadata);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    static (long, Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ReadHeader(string path, FileStream stream)
    {
        var fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (fileLength < 8 || RandomAccess.Read(stream.SafeFileHandle, lengthBytes, 0) != 8)
            throw new InvalidDataException($"Safetensors file '{path}' is truncated: it has {fileLength} bytes, fewer than the 8-byte header length.");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"Safetensors file '{path}' has a corrupt header: its declared length {headerLength} bytes is implausible.");
        if (8 + (long)headerLength > fileLength)
            throw new InvalidDataException($"Safetensors file '{path}' is truncated: the header declares {headerLength} bytes but the file has only {fileLength - 8} after the length.");
        var headerBytes = new byte[headerLength];
        RandomAccess.Read(stream.SafeFileHandle, headerBytes, 8);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        JsonDocument doc;
        try
        {
            // Duplicate keys are an error in safetensors; System.Text.Json rejects them when asked.
            doc = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Safetensors file '{path}' has a corrupt header: it is not valid JSON or repeats a key ({e.Message}).");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"Safetensors file '{path}' has a corrupt header: the header is not a JSON object.");

        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"Safetensors file '{path}' has a corrupt header: __metadata__ is not an object of strings.");
                foreach (var m in prop.Value.EnumerateObject())
                {
                    if (m.Value.ValueKind != JsonValueKind.String)
                        throw new InvalidDataException($"Safetensors file '{path}' has a corrupt header: __metadata__ value '{m.Name}' is not a string.");
                    metadata[m.Name] = m.Value.GetString()!;
                }
                continue;
            }
            entries[prop.Name] = ParseEntry(path, prop.Name, prop.Value, dataLength);
        }

        // Tensors must not overlap (the reference implementation also requires them to tile the data section
        // exactly; we only require non-overlap so files padded by other writers still load).
        var sorted = entries.Values.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
        for (var i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new InvalidDataException($"Safetensors file '{path}' has a corrupt header: tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap.");
        return (dataStart, entries, metadata);
    }

    static SafetensorsEntry ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        string Bad(string why) => $"Safetensors file '{path}' has a corrupt header: tensor '{name}' {why}.";
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException(Bad("is not an object"));
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw new InvalidDataException(Bad("has no dtype"));
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw new InvalidDataException(Bad("has no shape"));
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new InvalidDataException(Bad("has no data_offsets pair"));
        var dtype = dt.GetString()!;
        var elementSize = ElementSize(dtype) ?? throw new InvalidDataException(Bad($"has unsupported dtype '{dtype}'"));
        var shape = new long[sh.GetArrayLength()];
        var i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var v) || v < 0) throw new InvalidDataException(Bad("has a negative or non-integer dimension"));
            shape[i++] = v;
        }
        if (!off[0].TryGetInt64(out var begin) || !off[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw new InvalidDataException(Bad("has invalid data_offsets"));
        if (end > dataLength)
            throw new InvalidDataException($"Safetensors file '{path}' is truncated or corrupt: tensor '{name}' ends at data offset {end} but the data section has {dataLength} bytes.");
        var entry = new SafetensorsEntry(name, dtype, shape, begin, end);
        if (entry.ElementCount * elementSize != end - begin)
            throw new InvalidDataException(Bad($"of shape [{string.Join(", ", shape)}] and dtype {dtype} needs {entry.ElementCount * elementSize} bytes but its offsets span {end - begin}"));
        return entry;
    }

    internal static int? ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => null,
    };

    static ScalarType StoredType(string dtype) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new NotSupportedException($"Safetensors dtype '{dtype}' has no TorchSharp equivalent."),
    };

    /// <summary>
    /// Reads the tensor <paramref name="name"/> into a new CPU tensor: fp32 for any floating dtype, the stored
    /// type for integers and booleans.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The file has no tensor of that name.</exception>
    public Tensor Read(string name)
    {
        if (!Entries.TryGetValue(name, out var e))
            throw new KeyNotFoundException($"Safetensors file '{Path}' has no tensor '{name}'.");
        var stored = StoredType(e.DType);
        var t = empty(e.Shape, stored);
        var span = t.bytes;
        var read = 0;
        while (read < span.Length)
        {
            var n = RandomAccess.Read(stream.SafeFileHandle, span[read..], dataStart + e.Begin + read);
            if (n == 0) throw new InvalidDataException($"Safetensors file '{Path}' is truncated inside tensor '{name}'.");
            read += n;
        }
        if (stored is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64)
        {
            var converted = t.to_type(ScalarType.Float32);
            t.Dispose();
            return converted;
        }
        return t;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => stream.Dispose();
}

/// <summary>Whole-file helpers: save a named set of tensors, load all of them, or load straight into a module.</summary>
public static class Safetensors
{
    /// <summary>The data section is aligned to this many bytes, like the reference writer does.</summary>
    const int Alignment = 8;

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temporary file, then rename).
    /// Floating tensors are stored as F32, integer tensors as I64/I32, booleans as BOOL. Names are written in
    /// sorted order so the same state gives the same bytes.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = new List<(string Name, string DType, ScalarType Target, long[] Shape, Tensor Data)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (name == "__metadata__") throw new ArgumentException("A tensor cannot be named '__metadata__' in a safetensors file.");
            if (!seen.Add(name)) throw new ArgumentException($"Tensor name '{name}' is given twice for safetensors file '{path}'.");
            var (dtype, target) = tensor.dtype switch
            {
                ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64 => ("F32", ScalarType.Float32),
                ScalarType.Int64 => ("I64", ScalarType.Int64),
                ScalarType.Int32 => ("I32", ScalarType.Int32),
                ScalarType.Bool => ("BOOL", ScalarType.Bool),
                ScalarType.Byte => ("U8", ScalarType.Byte),
                _ => throw new NotSupportedException($"Tensor '{name}' has dtype {tensor.dtype}, which Farabi does not write to safetensors."),
            };
            items.Add((name, dtype, target, tensor.shape, tensor));
        }
        items.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var it in items)
        {
            var bytes = it.Data.NumberOfElements * SafetensorsFile.ElementSize(it.DType)!.Value;
            header[it.Name] = new JsonObject
            {
                ["dtype"] = it.DType,
                ["shape"] = new JsonArray(it.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Pad the header with spaces so the data section starts aligned (what the reference writer does).
        var padded = (json.Length + Alignment - 1) / Alignment * Alignment;
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            s.Write(len);
            s.Write(json);
            for (var i = json.Length; i < padded; i++) s.WriteByte((byte)' ');
            // One tensor at a time: a CPU, contiguous copy in the stored type, freed before the next, so saving
            // needs at most one extra tensor of memory. (detach gives a new handle: the caller's tensor stays alive.)
            foreach (var it in items)
            {
                using var scope = NewDisposeScope();
                var data = it.Data.detach().to(CPU).to_type(it.Target).contiguous();
                s.Write(data.bytes);
            }
        });
    }

    /// <summary>Reads every tensor of <paramref name="path"/> (floating ones as fp32).</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in file.Entries.Keys) result[name] = file.Read(name);
        return result;
    }

    /// <summary>
    /// Copies the tensors of <paramref name="path"/> into the parameters and persistent buffers of
    /// <paramref name="module"/>, matching by state-dict name. <paramref name="mapKey"/> renames a file key to
    /// the module's name, or returns null to ignore it (e.g. HF's non-persistent attention-mask buffers).
    /// A shape mismatch is always an error naming the key and both shapes; with <paramref name="strict"/>,
    /// unexpected or missing keys are errors too, otherwise they are reported.
    /// </summary>
    /// <exception cref="InvalidDataException">A shape mismatch, or (strict) keys that do not match.</exception>
    public static StateLoadReport LoadInto(nn.Module module, string path, bool strict = true, Func<string, string?>? mapKey = null)
    {
        using var file = SafetensorsFile.Open(path);
        var targets = module.state_dict();
        var unexpected = new List<string>();
        var assigned = new HashSet<string>(StringComparer.Ordinal);
        var plan = new List<(string FileKey, string ModuleKey)>();
        foreach (var (key, entry) in file.Entries)
        {
            var name = mapKey == null ? key : mapKey(key);
            if (name == null) continue;
            if (!targets.TryGetValue(name, out var target)) { unexpected.Add(key); continue; }
            if (!assigned.Add(name))
                throw new InvalidDataException($"Safetensors file '{path}' provides '{name}' twice (key '{key}').");
            if (!entry.Shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"Safetensors file '{path}': tensor '{key}' has shape [{string.Join(", ", entry.Shape)}] but the model expects [{string.Join(", ", target.shape)}].");
            plan.Add((key, name));
        }
        var missing = targets.Keys.Where(k => !assigned.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (strict && (unexpected.Count > 0 || missing.Count > 0))
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}");
            if (unexpected.Count > 0) parts.Add($"unexpected {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? $" and {unexpected.Count - 5} more" : "")}");
            throw new InvalidDataException($"Safetensors file '{path}' does not match the model: {string.Join("; ", parts)}.");
        }
        using (no_grad())
        {
            foreach (var (fileKey, moduleKey) in plan)
            {
                using var scope = NewDisposeScope();
                var source = file.Read(fileKey);
                var target = targets[moduleKey];
                target.copy_(source.to_type(target.dtype));
            }
        }
        return new StateLoadReport(unexpected, missing, plan.Count);
    }
}

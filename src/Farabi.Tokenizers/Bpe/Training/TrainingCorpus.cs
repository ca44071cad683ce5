using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Farabi.Tokenizers.Bpe.Training;

/// <summary>
/// The text a vocabulary is trained on: plain text files, gzip files (recognised by their magic
/// bytes) and JSON lines (one object per line, text in a named field), given as files or folders.
/// Text is streamed in pieces of about a megabyte, so a corpus is never held in memory whole.
/// </summary>
/// <remarks>
/// A plain file is cut only at a single line break between two non-space characters (or, for CR LF
/// files, just before a line break that follows a letter or digit). Every pre-tokenizer in Farabi
/// ends a piece there, so the words counted are exactly those of the whole file read at once (a
/// normalizer, though, sees each chunk on its own). Each JSON record is a text of its own.
/// </remarks>
public sealed class TrainingCorpus
{
    readonly IReadOnlyList<string>? inMemory;

    /// <summary>The input files, in reading order (folders expanded, sorted by path).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The JSON field holding the text, or null for plain text files.</summary>
    public string? JsonField { get; }

    /// <summary>The sum of the input files' sizes in bytes (compressed size for gzip files).</summary>
    public long TotalBytes { get; }

    TrainingCorpus(IReadOnlyList<string> files, string? jsonField, IReadOnlyList<string>? texts)
    {
        Files = files;
        JsonField = jsonField;
        inMemory = texts;
        TotalBytes = texts != null ? texts.Sum(t => (long)t.Length) : files.Sum(f => new FileInfo(f).Length);
    }

    /// <summary>
    /// A corpus read from <paramref name="paths"/>: files, or folders whose files (all of them,
    /// recursively, except hidden ones) are read in ordinal path order.
    /// </summary>
    /// <param name="paths">Files and folders.</param>
    /// <param name="jsonField">When set, every file is JSON lines and the text is this field of each object.</param>
    /// <exception cref="FileNotFoundException">A path does not exist.</exception>
    /// <exception cref="ArgumentException">No paths, or a folder without files.</exception>
    public static TrainingCorpus FromPaths(IEnumerable<string> paths, string? jsonField = null)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (File.Exists(path)) { files.Add(path); continue; }
            if (!Directory.Exists(path)) throw new FileNotFoundException($"Training input '{path}' does not exist.", path);
            var inFolder = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetRelativePath(path, f).Split(Path.DirectorySeparatorChar).Any(p => p.StartsWith('.')))
                .Order(StringComparer.Ordinal).ToList();
            if (inFolder.Count == 0) throw new ArgumentException($"Training folder '{path}' holds no files.");
            files.AddRange(inFolder);
        }
        if (files.Count == 0) throw new ArgumentException("No training input was given.");
        if (jsonField is { Length: 0 }) throw new ArgumentException("The JSON field name is empty.");
        return new TrainingCorpus(files, jsonField, null);
    }

    /// <summary>A corpus from one file or folder (see <see cref="FromPaths"/>).</summary>
    public static TrainingCorpus FromPath(string path, string? jsonField = null) => FromPaths([path], jsonField);

    /// <summary>A corpus of texts already in memory; each is pre-tokenized on its own.</summary>
    public static TrainingCorpus FromTexts(IEnumerable<string> texts) => new([], null, texts.ToList());

    /// <summary>A corpus of one text in memory.</summary>
    public static TrainingCorpus FromText(string text) => FromTexts([text]);

    /// <summary>
    /// Streams the corpus as texts of about <paramref name="chunkChars"/> characters (a plain file
    /// cut at line starts, or one or more JSON records). A word never spans two texts.
    /// </summary>
    /// <exception cref="InvalidDataException">A JSON line is not valid JSON or lacks the field (names file and line).</exception>
    public IEnumerable<string> ReadTexts(int chunkChars = 1 << 20)
    {
        foreach (var chunk in ReadChunks(chunkChars))
            foreach (var text in chunk.Texts) yield return text;
    }

    /// <summary>A batch of texts and how many input bytes have been consumed once it is read.</summary>
    internal readonly record struct Chunk(IReadOnlyList<string> Texts, long BytesRead);

    internal IEnumerable<Chunk> ReadChunks(int chunkChars)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkChars, 1);
        if (inMemory != null)
        {
            long done = 0;
            foreach (var t in inMemory)
            {
                done += t.Length;
                yield return new Chunk([t], done);
            }
            yield break;
        }
        long before = 0;
        foreach (var file in Files)
        {
            using var raw = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var input = IsGzip(raw) ? (Stream)new GZipStream(raw, CompressionMode.Decompress) : raw;
            using var reader = new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16);
            var chunks = JsonField == null ? PlainChunks(reader, chunkChars) : JsonChunks(reader, file, JsonField, chunkChars);
            foreach (var texts in chunks) yield return new Chunk(texts, before + raw.Position);
            before += raw.Length;
        }
    }

    static bool IsGzip(FileStream s)
    {
        Span<byte> magic = stackalloc byte[2];
        var n = s.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        s.Position = 0;
        return n == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
    }

    /// <summary>Blocks of a plain text file, each cut right after a line break followed by a non-space character.</summary>
    static IEnumerable<string[]> PlainChunks(StreamReader reader, int chunkChars)
    {
        var buffer = new char[chunkChars];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                var cut = SafeCut(buffer);
                if (cut > 0)
                {
                    yield return [new string(buffer, 0, cut)];
                    buffer.AsSpan(cut, filled - cut).CopyTo(buffer);
                    filled -= cut;
                }
                else
                {
                    Array.Resize(ref buffer, buffer.Length * 2); // no safe cut yet (one very long line)
                }
            }
            var n = reader.ReadBlock(buffer, filled, buffer.Length - filled);
            filled += n;
            if (n == 0)
            {
                if (filled > 0) yield return [new string(buffer, 0, filled)];
                yield break;
            }
        }
    }

    /// <summary>
    /// The last position where the text can be cut without changing its pre-tokenization, 0 when none.
    /// Preferred: a line start p where text[p-1] is '\n', text[p-2] is not white space and text[p] is
    /// not white space. (A longer whitespace run before p would not do: GPT-2's <c>\s+(?!\S)</c> gives
    /// a run's last character to the next piece, but takes the whole run at the end of a text.) For
    /// files whose lines end in CR LF, which never have such a point: just before a line break that
    /// follows a letter or digit.
    /// </summary>
    static int SafeCut(ReadOnlySpan<char> text)
    {
        for (var p = text.Length - 1; p >= 2; p--)
        {
            if (text[p - 1] == '\n' && !char.IsWhiteSpace(text[p]) && !char.IsWhiteSpace(text[p - 2])) return p;
        }
        for (var p = text.Length - 1; p >= 1; p--)
        {
            if (text[p] is '\r' or '\n' && char.IsLetterOrDigit(text[p - 1]) && !char.IsSurrogate(text[p - 1])) return p;
        }
        return 0;
    }

    static IEnumerable<string[]> JsonChunks(StreamReader reader, string file, string field, int chunkChars)
    {
        var batch = new List<string>();
        var batchChars = 0;
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var text = FieldOf(line, file, lineNumber, field);
            batch.Add(text);
            batchChars += text.Length;
            if (batchChars >= chunkChars)
            {
                yield return batch.ToArray();
                batch.Clear();
                batchChars = 0;
            }
        }
        if (batch.Count > 0) yield return batch.ToArray();
    }

    static string FieldOf(string line, string file, int lineNumber, string field)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file} line {lineNumber}: not valid JSON ({e.Message.Split(" LineNumber")[0].TrimEnd('.', ' ')}).");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{file} line {lineNumber}: expected a JSON object with a string field '{field}'.");
            if (!doc.RootElement.TryGetProperty(field, out var value) || value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{file} line {lineNumber}: no string field '{field}'.");
            return value.GetString()!;
        }
    }
}

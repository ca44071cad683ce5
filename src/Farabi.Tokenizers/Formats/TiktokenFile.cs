using System.Text;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Formats;

/// <summary>
/// tiktoken's vocabulary file: one token a line, <c>base64(bytes) rank</c>; the rank is both the
/// merge priority and the id. Microsoft.ML.Tokenizers' copies open with a <c>Capacity: N</c> line,
/// which is skipped, and omit the ranks (a token's rank is then its position). Special tokens are not in the file: the encoding
/// defines them.
/// </summary>
public static class TiktokenFile
{
    /// <summary>Reads a tiktoken file; errors name <paramref name="path"/> and the line.</summary>
    public static BpeTokenizer Load(string path, PreTokenizer preTokenizer, IReadOnlyDictionary<string, int>? specialTokens = null, string? name = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the tiktoken file {path} does not exist.", path);
        using var stream = File.OpenRead(path);
        return Load(stream, path, preTokenizer, specialTokens, name ?? Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Reads tiktoken lines from <paramref name="stream"/>; <paramref name="source"/> names it in errors.</summary>
    public static BpeTokenizer Load(Stream stream, string source, PreTokenizer preTokenizer, IReadOnlyDictionary<string, int>? specialTokens, string name)
    {
        var tokens = Read(stream, source);
        return new BpeTokenizer(name, preTokenizer, tokens, specialTokens ?? new Dictionary<string, int>(), source);
    }

    internal static List<(byte[] Bytes, int Id, int Rank)> Read(Stream stream, string source)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
        var tokens = new List<(byte[], int, int)>(1 << 17);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            if (lineNumber == 1 && line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            // Microsoft.ML.Tokenizers' copies leave the rank out: it is then the line's position.
            var space = line.IndexOf(' ');
            var rank = tokens.Count;
            if (space == 0 || (space > 0 && !int.TryParse(line.AsSpan(space + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out rank)))
                throw new FormatException($"{source}:{lineNumber}: expected 'base64-token rank', got '{Shorten(line)}'.");
            if (space < 0) space = line.Length;
            byte[] bytes;
            try { bytes = Convert.FromBase64String(line[..space]); }
            catch (FormatException) { throw new FormatException($"{source}:{lineNumber}: '{Shorten(line[..space])}' is not base64."); }
            if (bytes.Length == 0) throw new FormatException($"{source}:{lineNumber}: the token is empty.");
            tokens.Add((bytes, rank, rank));
        }
        if (tokens.Count == 0) throw new InvalidDataException($"{source}: no tokens in the file.");
        return tokens;
    }

    /// <summary>Writes the mergeable tokens of <paramref name="tokenizer"/> as a tiktoken file (atomically), in rank order.</summary>
    public static void Save(BpeTokenizer tokenizer, string path)
    {
        var tokens = tokenizer.MergeableTokens().ToList();
        // tiktoken has one number per token, so merge ranks must follow ids for the file to mean the same thing.
        var merged = tokens.Where(t => t.Bytes.Length > 1 && t.Rank != int.MaxValue).OrderBy(t => t.Rank).ToList();
        for (var i = 1; i < merged.Count; i++)
            if (merged[i].Id <= merged[i - 1].Id)
                throw new NotSupportedException($"{tokenizer.Name}: its merge order differs from its id order, which a tiktoken file cannot express; save it as tokenizer.json instead.");
        var sb = new StringBuilder(tokens.Count * 16);
        foreach (var (bytes, id, _) in tokens.OrderBy(t => t.Id)) sb.Append(Convert.ToBase64String(bytes)).Append(' ').Append(id).Append('\n');
        AtomicFile.WriteText(path, sb.ToString());
    }

    internal static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}

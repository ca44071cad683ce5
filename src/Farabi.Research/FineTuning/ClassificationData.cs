using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Farabi.Data;

namespace Farabi.Research.FineTuning;

/// <summary>A text with its class index.</summary>
public sealed record TextExample(string Text, int Label);

/// <summary>
/// Readers for the data the fine-tuning family works on: a labelled TSV (SST-2's <c>sentence&lt;TAB&gt;label</c>),
/// the text field of gzip or plain JSON lines (IMDB reviews for pretraining), and the built-in synthetic
/// sentiment task. Every error names the file and line.
/// </summary>
public static class ClassificationData
{
    /// <summary>
    /// Reads <c>text&lt;TAB&gt;label</c> lines with integer labels (a first line whose label is not an integer is a
    /// header and is skipped); keeps the first <paramref name="maxCount"/> examples when given.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is not <c>text&lt;TAB&gt;integer label</c>.</exception>
    public static List<TextExample> ReadTsv(string path, int? maxCount = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        var result = new List<TextExample>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Length == 0) continue;
            var tab = line.LastIndexOf('\t');
            if (tab <= 0) throw new FormatException($"Data file '{path}', line {n}: expected 'text<TAB>label'.");
            var labelText = line[(tab + 1)..].Trim();
            if (!int.TryParse(labelText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var label) || label < 0)
            {
                if (n == 1) continue; // header, e.g. "sentence<TAB>label"
                throw new FormatException($"Data file '{path}', line {n}: the label '{labelText}' is not a class index (0, 1, ...).");
            }
            result.Add(new TextExample(line[..tab].Trim(), label));
            if (maxCount is { } max && result.Count >= max) break;
        }
        if (result.Count == 0) throw new FormatException($"Data file '{path}' has no labelled examples.");
        return result;
    }

    /// <summary>
    /// The string field <paramref name="field"/> of each line of a JSON-lines file (gzip when the name ends in
    /// <c>.gz</c>), HTML line breaks replaced by spaces, until about <paramref name="maxChars"/> characters.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is not a JSON object with that string field.</exception>
    public static List<string> ReadJsonLinesText(string path, string field, long maxChars = long.MaxValue)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Text file '{path}' does not exist.", path);
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var texts = new List<string>();
        long chars = 0;
        var n = 0;
        while (chars < maxChars && reader.ReadLine() is { } line)
        {
            n++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? text;
            try
            {
                using var doc = JsonDocument.Parse(line);
                text = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String
                    ? v.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new FormatException($"Text file '{path}', line {n}: not valid JSON ({e.Message}).");
            }
            if (text is null) throw new FormatException($"Text file '{path}', line {n}: no string field '{field}'.");
            text = text.Replace("<br />", " ", StringComparison.Ordinal).Replace("<br/>", " ", StringComparison.Ordinal);
            texts.Add(text);
            chars += text.Length;
        }
        if (texts.Count == 0) throw new FormatException($"Text file '{path}' has no lines with a '{field}' field.");
        return texts;
    }

    /// <summary><paramref name="count"/> examples of the built-in synthetic sentiment task (<see cref="SyntheticSentiment"/>).</summary>
    public static List<TextExample> Synthetic(int count, int seed) =>
        SyntheticSentiment.Generate(count, seed).Select(x => new TextExample(x.Text, x.Label)).ToList();

    /// <summary>A seeded random subset of <paramref name="count"/> examples (all of them, shuffled, when there are fewer).</summary>
    public static List<TextExample> Sample(IReadOnlyList<TextExample> examples, int count, int seed)
    {
        var copy = examples.ToArray();
        new Random(seed).Shuffle(copy);
        return copy.Take(count).ToList();
    }
}

using System.IO.Compression;
using System.Text.Json;

namespace Farabi.Research.WeakToStrong;

/// <summary>
/// Adapters from the files of public binary text classification sets to <see cref="TextClassificationTask"/>s of
/// (text, label) pairs. Each reads the set's own distributed format; a bad line is one <see cref="FormatException"/>
/// naming the file and the line. Sets that ship one file (SUBJ, MR, BoolQ's dev set, SnappFood's dev set) are cut into
/// a seeded test part and a training part that never overlap.
/// </summary>
public static class ClassificationDataSets
{
    /// <summary>The task names <see cref="Load"/> accepts, with the file or folder each expects.</summary>
    public static IReadOnlyDictionary<string, string> Names { get; } = new Dictionary<string, string>
    {
        ["sst2"] = "a folder holding train.tsv and dev.tsv (sentence<TAB>label, header)",
        ["imdb"] = "a folder holding train.jsonl.gz and test.jsonl.gz (JSON lines with text and label)",
        ["boolq"] = "BoolQ's validation.json (a JSON array, or JSON lines, of question, passage, answer)",
        ["subj"] = "subj.all (a label 0/1, a space, the sentence per line)",
        ["mr"] = "rt-polarity.all (a label 0/1, a space, the sentence per line)",
        ["cr"] = "custrev.all (a label 0/1, a space, the sentence per line)",
        ["snappfood"] = "SnappFood's dev.tsv (index<TAB>comment<TAB>HAPPY|SAD<TAB>label_id, header)",
    };

    /// <summary>
    /// The task <paramref name="name"/> from <paramref name="path"/>, with at most <paramref name="trainCount"/> training
    /// and <paramref name="testCount"/> test examples drawn with <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    /// <exception cref="FileNotFoundException">A missing file.</exception>
    /// <exception cref="FormatException">A line that is not in the set's format.</exception>
    public static TextClassificationTask Load(string name, string path, int trainCount, int testCount, int seed) => name switch
    {
        "sst2" => TextClassificationTask.Sst2(path, trainCount, testCount, seed),
        "imdb" => Imdb(path, trainCount, testCount, seed),
        "boolq" => BoolQ(path, trainCount, testCount, seed),
        "subj" or "mr" or "cr" => LabelFirstSentences(name, path, trainCount, testCount, seed),
        "snappfood" => SnappFood(path, trainCount, testCount, seed),
        _ => throw new ArgumentException($"Unknown task '{name}'; expected synthetic, {string.Join(", ", Names.Keys)}."),
    };

    /// <summary>
    /// IMDB movie reviews (Maas et al., 2011) from a folder with <c>train.jsonl.gz</c> and <c>test.jsonl.gz</c> (plain
    /// <c>.jsonl</c> also read): one JSON object per line with a string <c>text</c> and a <c>label</c> of 0 or 1. The
    /// reviews' <c>&lt;br /&gt;</c> line breaks become spaces.
    /// </summary>
    public static TextClassificationTask Imdb(string folder, int trainCount = 4000, int testCount = 1000, int seed = 0)
    {
        string File(string stem)
        {
            foreach (var candidate in new[] { stem + ".jsonl.gz", stem + ".jsonl" })
                if (System.IO.File.Exists(Path.Combine(folder, candidate))) return Path.Combine(folder, candidate);
            throw new FileNotFoundException($"IMDB folder '{folder}' has no {stem}.jsonl.gz or {stem}.jsonl.", Path.Combine(folder, stem + ".jsonl.gz"));
        }
        List<(string, int)> Read(string path)
        {
            var rows = new List<(string, int)>();
            foreach (var (line, n) in Lines(path))
            {
                if (line.Length == 0) continue;
                var o = ParseObject(path, n, line);
                var text = RequireString(path, n, o, "text");
                rows.Add((text.Replace("<br />", " ").Replace("<br/>", " "), RequireLabel(path, n, o, "label")));
            }
            return NonEmpty(path, rows);
        }
        // Both files are found before either is read, so a missing split is reported before a slow parse.
        var (trainPath, testPath) = (File("train"), File("test"));
        var random = new Random(seed);
        return new TextClassificationTask("imdb", Sample(Read(trainPath), trainCount, random), Sample(Read(testPath), testCount, random));
    }

    /// <summary>
    /// BoolQ (Clark et al., 2019): yes/no questions about a Wikipedia passage. Reads a JSON array or JSON lines of objects
    /// with <c>question</c>, <c>passage</c> and a boolean <c>answer</c> (true is class 1). The text is the question, a
    /// question mark and the passage, question first so that truncating a long passage never loses the question. Only
    /// the dev set is public with answers, so it is cut into test and training parts.
    /// </summary>
    public static TextClassificationTask BoolQ(string path, int trainCount = 2000, int testCount = 1000, int seed = 0)
    {
        RequireFile(path);
        var rows = new List<(string, int)>();
        void Add(JsonElement o, string where)
        {
            if (o.ValueKind != JsonValueKind.Object) throw new FormatException($"Data file '{path}', {where}: expected an object with question, passage and answer.");
            var question = RequireString(path, where, o, "question").Trim().TrimEnd('?');
            var passage = RequireString(path, where, o, "passage");
            if (!o.TryGetProperty("answer", out var answer) || answer.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new FormatException($"Data file '{path}', {where}: 'answer' must be true or false.");
            rows.Add(($"{question}? {passage}", answer.ValueKind == JsonValueKind.True ? 1 : 0));
        }
        var firstChar = FirstNonSpace(path);
        if (firstChar == '[')
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(System.IO.File.ReadAllText(path));
            }
            catch (JsonException e)
            {
                throw new FormatException($"Data file '{path}' is not valid JSON (line {e.LineNumber + 1}): {e.Message}");
            }
            using (document)
            {
                var i = 0;
                foreach (var o in document.RootElement.EnumerateArray()) Add(o, $"item {i++}");
            }
        }
        else
            foreach (var (line, n) in Lines(path))
                if (line.Length > 0)
                    using (var d = ParseDocument(path, n, line))
                        Add(d.RootElement, $"line {n}");
        return Split("boolq", NonEmpty(path, rows), trainCount, testCount, seed);
    }

    /// <summary>
    /// A single-file sentence set in the harvardnlp/sent-conv-torch format (SUBJ: <c>subj.all</c>, MR: <c>rt-polarity.all</c>,
    /// CR: <c>custrev.all</c>): each line is a label 0 or 1, a space, and the sentence.
    /// </summary>
    public static TextClassificationTask LabelFirstSentences(string name, string path, int trainCount = 4000, int testCount = 1000, int seed = 0)
    {
        var rows = new List<(string, int)>();
        foreach (var (line, n) in Lines(path))
        {
            if (line.Trim().Length == 0) continue;
            var space = line.IndexOf(' ');
            var label = space < 0 ? line.Trim() : line[..space];
            if (space <= 0 || label is not ("0" or "1"))
                throw new FormatException($"Data file '{path}', line {n}: expected '0 sentence' or '1 sentence' (a binary label, a space, the text), not a line starting '{Head(line)}'.");
            rows.Add((line[(space + 1)..].Trim(), label == "1" ? 1 : 0));
        }
        return Split(name, NonEmpty(path, rows), trainCount, testCount, seed);
    }

    /// <summary>
    /// Persian food-delivery reviews from SnappFood (HooshvareLab's sentiment set): tab-separated
    /// <c>index, comment, label, label_id</c> with a header, label <c>HAPPY</c> (class 1) or <c>SAD</c> (class 0).
    /// </summary>
    public static TextClassificationTask SnappFood(string path, int trainCount = 4000, int testCount = 1000, int seed = 0)
    {
        var rows = new List<(string, int)>();
        foreach (var (line, n) in Lines(path))
        {
            if (line.Trim().Length == 0) continue;
            var fields = line.Split('\t');
            if (n == 1 && fields.Length >= 3 && fields[2].Trim() == "label") continue;
            if (fields.Length < 3) throw new FormatException($"Data file '{path}', line {n}: expected index<TAB>comment<TAB>HAPPY|SAD, found {fields.Length} field(s).");
            var label = fields[2].Trim() switch
            {
                "HAPPY" => 1,
                "SAD" => 0,
                var other => throw new FormatException($"Data file '{path}', line {n}: label '{Head(other)}' is neither HAPPY nor SAD."),
            };
            rows.Add((fields[1].Trim(), label));
        }
        return Split("snappfood", NonEmpty(path, rows), trainCount, testCount, seed);
    }

    /// <summary>
    /// Shuffles <paramref name="rows"/> with <paramref name="seed"/>, keeps the first <paramref name="testCount"/> for
    /// testing (at most half) and up to <paramref name="trainCount"/> of the others for training: disjoint by construction.
    /// </summary>
    public static TextClassificationTask Split(string name, IReadOnlyList<(string Text, int Label)> rows, int trainCount, int testCount, int seed)
    {
        var shuffled = rows.ToArray();
        new Random(seed).Shuffle(shuffled);
        var test = Math.Min(testCount, shuffled.Length / 2);
        return new TextClassificationTask(name, shuffled.Skip(test).Take(trainCount).ToList(), shuffled.Take(test).ToList());
    }

    static List<(string, int)> Sample(List<(string, int)> rows, int count, Random random)
    {
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows));
        return rows.Take(count).ToList();
    }

    static void RequireFile(string path)
    {
        if (Directory.Exists(path)) throw new FileNotFoundException($"'{path}' is a folder; expected a data file.", path);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
    }

    /// <summary>The lines of a text file (gzip-compressed when the name ends in .gz), numbered from 1.</summary>
    static IEnumerable<(string Line, int Number)> Lines(string path)
    {
        RequireFile(path);
        using var stream = System.IO.File.OpenRead(path);
        using var decoded = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(stream, CompressionMode.Decompress) : (Stream)stream;
        using var reader = new StreamReader(decoded);
        var n = 0;
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (InvalidDataException)
            {
                throw new InvalidDataException($"Data file '{path}' is not valid gzip (after line {n}).");
            }
            if (line is null) yield break;
            yield return (line, ++n);
        }
    }

    static char FirstNonSpace(string path)
    {
        using var reader = new StreamReader(path);
        int c;
        while ((c = reader.Read()) >= 0) if (!char.IsWhiteSpace((char)c)) return (char)c;
        throw new FormatException($"Data file '{path}' is empty.");
    }

    static JsonDocument ParseDocument(string path, int line, string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            throw new FormatException($"Data file '{path}', line {line}: not a JSON object.");
        }
    }

    static JsonElement ParseObject(string path, int line, string text)
    {
        using var d = ParseDocument(path, line, text);
        if (d.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException($"Data file '{path}', line {line}: not a JSON object.");
        return d.RootElement.Clone();
    }

    static string RequireString(string path, int line, JsonElement o, string key) => RequireString(path, $"line {line}", o, key);

    static string RequireString(string path, string where, JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new FormatException($"Data file '{path}', {where}: '{key}' must be a string.");

    static int RequireLabel(string path, int line, JsonElement o, string key)
    {
        if (o.TryGetProperty(key, out var v))
        {
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i is 0 or 1) return i;
            if (v.ValueKind == JsonValueKind.String && v.GetString() is "0" or "1") return v.GetString() == "1" ? 1 : 0;
        }
        throw new FormatException($"Data file '{path}', line {line}: '{key}' must be 0 or 1.");
    }

    static List<(string, int)> NonEmpty(string path, List<(string, int)> rows) =>
        rows.Count > 0 ? rows : throw new FormatException($"Data file '{path}' has no examples.");

    static string Head(string s) => s.Length <= 20 ? s : s[..20] + "...";
}

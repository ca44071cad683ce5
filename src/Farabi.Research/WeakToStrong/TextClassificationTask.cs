using System.Globalization;

namespace Farabi.Research.WeakToStrong;

/// <summary>A binary text classification task: labelled training and test examples.</summary>
/// <param name="Name">Short name for reports.</param>
/// <param name="Train">Training examples (later split into validation, A and B).</param>
/// <param name="Test">Held-out test examples.</param>
public sealed record TextClassificationTask(string Name, IReadOnlyList<(string Text, int Label)> Train, IReadOnlyList<(string Text, int Label)> Test)
{
    static readonly string[] Positive = ["good", "great", "fine", "happy", "lovely", "superb", "nice", "bright", "warm", "fun"];
    static readonly string[] Negative = ["bad", "awful", "sad", "poor", "dull", "boring", "weak", "grim", "cold", "bleak"];
    static readonly string[] Neutral = ["the", "film", "plot", "was", "and", "actor", "story", "a", "very", "but", "music", "ending", "quite", "scene"];

    /// <summary>
    /// The embedded default: short reviews of <paramref name="minSentimentWords"/> to <paramref name="maxSentimentWords"/>
    /// sentiment words among fillers, where <c>not</c> before a word (with probability <paramref name="negationRate"/>)
    /// flips it; the label is 1 when the flipped count of positive words exceeds the negative one. Reading the sentiment
    /// words and ignoring <c>not</c> is a shortcut (68% right with the defaults; a bag of words that also counts the
    /// <c>not</c>s reaches 89%): what a one-layer model learns. Composing <c>not</c> with the next word is needed for the
    /// rest, which is what separates a weak model from a stronger one. Balanced, untied classes, fixed by <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Counts or rates out of range.</exception>
    public static TextClassificationTask SyntheticNegation(int trainCount = 2000, int testCount = 500, int seed = 0,
        int minSentimentWords = 1, int maxSentimentWords = 3, double negationRate = 0.3)
    {
        if (minSentimentWords < 1 || maxSentimentWords < minSentimentWords)
            throw new ArgumentException($"Sentiment words per review must satisfy 1 <= min <= max, not {minSentimentWords}..{maxSentimentWords}.");
        if (negationRate is < 0 or >= 1) throw new ArgumentException($"The negation rate must be in [0, 1), not {negationRate}.");
        var random = new Random(seed);
        List<(string, int)> Draw(int count)
        {
            var result = new List<(string, int)>(count);
            while (result.Count < count)
            {
                var wanted = result.Count % 2;
                var words = new List<string>();
                var score = 0;
                var sentiment = minSentimentWords + random.Next(maxSentimentWords - minSentimentWords + 1);
                for (var k = 0; k < sentiment; k++)
                {
                    var positive = random.Next(2) == 1;
                    var negated = random.NextDouble() < negationRate;
                    if (negated) words.Add("not");
                    words.Add((positive ? Positive : Negative)[random.Next(Positive.Length)]);
                    score += positive ^ negated ? 1 : -1;
                }
                if (score == 0 || (score > 0 ? 1 : 0) != wanted) continue; // rejection keeps the classes balanced and untied
                for (var k = 1 + random.Next(3); k > 0; k--)
                {
                    var at = random.Next(words.Count + 1);
                    if (at > 0 && words[at - 1] == "not") at--; // never between "not" and its word
                    words.Insert(at, Neutral[random.Next(Neutral.Length)]);
                }
                result.Add((string.Join(' ', words), wanted));
            }
            return result;
        }
        return new TextClassificationTask("synthetic-negation", Draw(trainCount), Draw(testCount));
    }

    // 48 common English words per polarity, most frequent first (the order sets each word's Zipf rank).
    static readonly string[] LexiconPositive =
    [
        "good", "great", "excellent", "wonderful", "fantastic", "amazing", "superb", "brilliant", "delightful", "lovely", "charming", "marvelous",
        "splendid", "terrific", "outstanding", "magnificent", "enjoyable", "pleasant", "beautiful", "touching", "moving", "gripping", "riveting", "captivating",
        "hilarious", "witty", "clever", "engaging", "heartwarming", "inspiring", "uplifting", "exquisite", "stunning", "dazzling", "masterful", "flawless",
        "sublime", "graceful", "fresh", "vibrant", "compelling", "thoughtful", "poignant", "elegant", "joyful", "refreshing", "memorable", "remarkable",
    ];
    static readonly string[] LexiconNegative =
    [
        "bad", "awful", "terrible", "horrible", "dreadful", "boring", "dull", "tedious", "poor", "weak", "bland", "lame",
        "stupid", "pointless", "mediocre", "clumsy", "sloppy", "tiresome", "lifeless", "shallow", "predictable", "forgettable", "annoying", "irritating",
        "painful", "unbearable", "atrocious", "abysmal", "dismal", "dire", "grim", "bleak", "hollow", "insipid", "trite", "stale",
        "wooden", "muddled", "incoherent", "disappointing", "ugly", "lousy", "pathetic", "miserable", "sluggish", "cliched", "messy", "bloated",
    ];

    /// <summary>
    /// A built-in task where pretrained knowledge is what separates weak from strong: reviews of one sentiment word of
    /// the label's polarity among fillers, from 48 words per polarity. Training reviews draw the word with Zipf
    /// frequencies (rank^−<paramref name="zipfExponent"/>), so a model trained from scratch meets the frequent words often
    /// and the rare ones seldom or never; test reviews draw all 48 alike, so the test asks about the long tail. A model
    /// that learned English beforehand (a frozen sentence encoder) knows that "poignant" and "insipid" carry sentiment
    /// without seeing them labelled: that is the knowledge weak labels on the frequent words can elicit. Balanced
    /// classes, fixed by <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A negative exponent.</exception>
    public static TextClassificationTask SyntheticLexicon(int trainCount = 1200, int testCount = 500, int seed = 0, double zipfExponent = 1.5)
    {
        if (zipfExponent < 0) throw new ArgumentException($"The Zipf exponent must not be negative, not {zipfExponent}.");
        var random = new Random(seed);
        var cumulative = new double[LexiconPositive.Length];
        for (var r = 0; r < cumulative.Length; r++) cumulative[r] = (r == 0 ? 0 : cumulative[r - 1]) + Math.Pow(r + 1, -zipfExponent);
        string Word(string[] words, bool zipf)
        {
            if (!zipf) return words[random.Next(words.Length)];
            var u = random.NextDouble() * cumulative[^1];
            var rank = Array.FindIndex(cumulative, c => c >= u);
            return words[rank < 0 ? words.Length - 1 : rank];
        }
        List<(string, int)> Draw(int count, bool zipf)
        {
            var result = new List<(string, int)>(count);
            for (var i = 0; i < count; i++)
            {
                var label = i % 2;
                var words = new List<string> { Word(label == 1 ? LexiconPositive : LexiconNegative, zipf) };
                for (var k = 2 + random.Next(3); k > 0; k--) words.Add(Neutral[random.Next(Neutral.Length)]);
                random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(words));
                result.Add((string.Join(' ', words), label));
            }
            return result;
        }
        return new TextClassificationTask("synthetic-lexicon", Draw(trainCount, zipf: true), Draw(testCount, zipf: false));
    }

    /// <summary>
    /// SST-2 from a GLUE-style folder holding <c>train.tsv</c> and <c>dev.tsv</c> (<c>sentence&lt;TAB&gt;label</c> with a
    /// header); the dev set serves as the test set. <paramref name="trainCount"/> and <paramref name="testCount"/> take a
    /// seeded sample when smaller than the files.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="FormatException">A line is not <c>text&lt;TAB&gt;0|1</c>.</exception>
    public static TextClassificationTask Sst2(string folder, int trainCount = 4000, int testCount = 872, int seed = 0) =>
        FromTsvFolder("sst2", folder, "train.tsv", "dev.tsv", trainCount, testCount, seed);

    /// <summary>A task from two TSV files (<c>text&lt;TAB&gt;0|1</c>, optional header) in <paramref name="folder"/>.</summary>
    public static TextClassificationTask FromTsvFolder(string name, string folder, string trainFile, string testFile, int trainCount, int testCount, int seed)
    {
        var random = new Random(seed);
        List<(string, int)> Sample(string file, int count)
        {
            var rows = ReadTsv(Path.Combine(folder, file));
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows));
            return rows.Take(count).ToList();
        }
        return new TextClassificationTask(name, Sample(trainFile, trainCount), Sample(testFile, testCount));
    }

    /// <summary>Reads <c>text&lt;TAB&gt;label</c> lines with labels 0 or 1; a first line whose label is not a number is a header.</summary>
    public static List<(string Text, int Label)> ReadTsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        var rows = new List<(string, int)>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Length == 0) continue;
            var tab = line.LastIndexOf('\t');
            var label = tab < 0 ? "" : line[(tab + 1)..].Trim();
            if (n == 1 && !int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
            if (tab <= 0 || label is not ("0" or "1")) throw new FormatException($"Data file '{path}', line {n}: expected 'text<TAB>0' or 'text<TAB>1'.");
            rows.Add((line[..tab].Trim(), label == "1" ? 1 : 0));
        }
        if (rows.Count == 0) throw new FormatException($"Data file '{path}' has no examples.");
        return rows;
    }
}

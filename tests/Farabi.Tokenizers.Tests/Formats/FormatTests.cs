using System.Text;
using Farabi.Testing;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Data;
using Farabi.Tokenizers.Formats;
using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.Formats;

public sealed class FormatTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-formats-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Samples =
    [
        "Hello, world! It's 2024 and we've 12345 tokens.", "سلام دنیا، می‌خواهم بروم.", "🙂👍🏽 emoji 👨‍👩‍👧", "tabs\t\tand\n\n  newlines  ",
        "ALLCaps and camelCaseWords don't split the same", "a<|endoftext|>b",
    ];

    static void AssertSameIds(BpeTokenizer expected, BpeTokenizer actual)
    {
        foreach (var s in Samples)
        {
            Assert.Equal(expected.Encode(s, SpecialTokenPolicy.AllowAll), actual.Encode(s, SpecialTokenPolicy.AllowAll));
            Assert.Equal(s, actual.Decode(actual.Encode(s, SpecialTokenPolicy.AllowAll)));
        }
        Assert.Equal(expected.PreTokenizer.Name, actual.PreTokenizer.Name);
        Assert.Equal(expected.SpecialTokens.OrderBy(kv => kv.Key), actual.SpecialTokens.OrderBy(kv => kv.Key));
    }

    /// <summary>A small vocabulary as the trainer yields it: 256 bytes in GPT-2's order, merges in order, then a special.</summary>
    static BpeTokenizer SmallTrained(PreTokenizer pre)
    {
        var tokens = ByteLevel.Gpt2ByteOrder.Select(b => new[] { b }).ToList();
        int Id(string s) => tokens.FindIndex(t => t.SequenceEqual(Encoding.UTF8.GetBytes(s)));
        var merges = new List<(int, int)>();
        void Merge(string a, string b) { merges.Add((Id(a), Id(b))); tokens.Add(Encoding.UTF8.GetBytes(a + b)); }
        Merge(" ", "t"); Merge("h", "e"); Merge(" t", "he"); Merge("l", "l"); Merge("he", "ll"); Merge("o", " ");
        tokens.Add(Encoding.UTF8.GetBytes("<|endoftext|>"));
        return BpeTokenizer.FromTokens(tokens, merges, new Dictionary<string, int> { ["<|endoftext|>"] = tokens.Count - 1 }, pre, "small");
    }

    [Fact]
    public void TrainedVocabularyMergesInMergeOrder()
    {
        var t = SmallTrained(PreTokenizer.Gpt2);
        var ids = t.Encode(" the hello");
        Assert.Equal(" the hello", t.Decode(ids));
        // " the" is one merge chain; " hello" becomes " " + "hell" + "o" (no merge joins " " to "h").
        Assert.Equal([" the", " ", "hell", "o"], ids.Select(id => t.Decode([id])));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    public void SmallVocabularyRoundTripsThroughEveryFormat(string preName)
    {
        var t = SmallTrained(PreTokenizer.FromName(preName));
        t.Save(Path.Combine(_dir, "folder"));
        AssertSameIds(t, BpeTokenizer.Load(Path.Combine(_dir, "folder")));
        t.SaveTokenizerJson(Path.Combine(_dir, "tokenizer.json"));
        AssertSameIds(t, BpeTokenizer.Load(Path.Combine(_dir, "tokenizer.json")));
        t.SaveVocabAndMerges(Path.Combine(_dir, "vocab.json"), Path.Combine(_dir, "merges.txt"));
        AssertSameIds(t, BpeTokenizer.FromVocabAndMerges(Path.Combine(_dir, "vocab.json"), Path.Combine(_dir, "merges.txt"), PreTokenizer.FromName(preName)));
        t.SaveTiktoken(Path.Combine(_dir, "small.tiktoken"));
        AssertSameIds(t, BpeTokenizer.FromTiktoken(Path.Combine(_dir, "small.tiktoken"), PreTokenizer.FromName(preName), t.SpecialTokens));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void VocabularyFolderKeepsPreTokenizerSpecialsAndNormalizerName()
    {
        var t = SmallTrained(PreTokenizer.O200k);
        var folder = Path.Combine(_dir, "trained");
        t.Save(folder);
        // The trainer may list specials by name (ids then come from vocab.json) and name a normalizer.
        File.WriteAllText(Path.Combine(folder, VocabularyFolder.SettingsFile),
            """{"pre_tokenizer": "o200k_base", "special_tokens": ["<|endoftext|>"], "normalizer": "persian"}""");
        var loaded = BpeTokenizer.Load(folder);
        Assert.Same(PreTokenizer.O200k, loaded.PreTokenizer);
        Assert.Equal(t.SpecialTokens["<|endoftext|>"], loaded.SpecialTokens["<|endoftext|>"]);
        Assert.Equal("persian", loaded.NormalizerName);
        File.WriteAllText(Path.Combine(folder, VocabularyFolder.SettingsFile), """{"pre_tokenizer": "klingon"}""");
        Assert.Contains("pre_tokenizer", Assert.Throws<InvalidDataException>(() => BpeTokenizer.Load(folder)).Message);
    }

    [Fact]
    public void NormalizerNameGivenAtTrainingIsSavedAndLoaded()
    {
        var bytes = ByteLevel.Gpt2ByteOrder.Select(b => new[] { b }).ToList();
        var t = BpeTokenizer.FromTokens(bytes, [], null, PreTokenizer.Gpt2, "n", normalizerName: "persian");
        t.Save(Path.Combine(_dir, "n"));
        Assert.Equal("persian", BpeTokenizer.Load(Path.Combine(_dir, "n")).NormalizerName);
    }

    [Fact]
    public void Gpt2RoundTripsThroughTokenizerJsonAndVocabFolder()
    {
        var gpt2 = Encodings.Get("gpt2");
        gpt2.SaveTokenizerJson(Path.Combine(_dir, "gpt2.json"));
        AssertSameIds(gpt2, BpeTokenizer.Load(Path.Combine(_dir, "gpt2.json")));
        gpt2.Save(Path.Combine(_dir, "gpt2"));
        AssertSameIds(gpt2, BpeTokenizer.Load(Path.Combine(_dir, "gpt2")));
    }

    [Fact]
    public void Gpt2FromOpenAiFilesMatchesTheTiktokenFile()
    {
        var folder = SharedData.Require("tokenizer/gpt2");
        var fromJson = BpeTokenizer.FromVocabAndMerges(Path.Combine(folder, "encoder.json"), Path.Combine(folder, "vocab.bpe"));
        var fromTiktoken = BpeTokenizer.FromTiktoken(Path.Combine(folder, "gpt2.tiktoken"));
        AssertSameIds(Encodings.Get("gpt2"), fromJson);
        AssertSameIds(Encodings.Get("gpt2"), fromTiktoken);
        Assert.Equal(50256, fromJson.SpecialTokens["<|endoftext|>"]);
        Assert.Equal(50257, fromJson.VocabSize);
    }

    string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    static string Base64Bytes() => string.Join("\n", Enumerable.Range(0, 256).Select(b => $"{Convert.ToBase64String([(byte)b])} {b}"));

    [Fact]
    public void MalformedTiktokenLinesNameFileAndLine()
    {
        var path = Write("bad.tiktoken", Base64Bytes() + "\n!!notbase64 256\n");
        var e = Assert.Throws<FormatException>(() => BpeTokenizer.FromTiktoken(path, PreTokenizer.Gpt2));
        Assert.Contains("bad.tiktoken:257", e.Message);
        path = Write("bad2.tiktoken", Base64Bytes() + "\nYWI= x\n");
        e = Assert.Throws<FormatException>(() => BpeTokenizer.FromTiktoken(path, PreTokenizer.Gpt2));
        Assert.Contains("bad2.tiktoken:257", e.Message);
        var missingByte = Write("nobyte.tiktoken", string.Join("\n", Base64Bytes().Split('\n').Skip(1)));
        var e2 = Assert.Throws<InvalidDataException>(() => BpeTokenizer.FromTiktoken(missingByte, PreTokenizer.Gpt2));
        Assert.Contains("0x00", e2.Message);
        Assert.Throws<ArgumentException>(() => BpeTokenizer.FromTiktoken(Write("mystery.tiktoken", Base64Bytes()))); // which pre-tokenizer?
    }

    [Fact]
    public void MissingFilesAreFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => BpeTokenizer.Load(Path.Combine(_dir, "nope.json")));
        Assert.Throws<FileNotFoundException>(() => BpeTokenizer.Load(_dir)); // an empty folder
        var vocab = Write("vocab.json", "{}");
        var e = Assert.Throws<FileNotFoundException>(() => BpeTokenizer.FromVocabAndMerges(vocab, Path.Combine(_dir, "merges.txt")));
        Assert.Contains("merges.txt", e.Message);
    }

    static string ByteVocabJson(params string[] extra)
    {
        var entries = ByteLevel.Gpt2ByteOrder.Select((b, i) => $"\"{Escape(ByteLevel.Encode([b]))}\": {i}").Concat(extra.Select((t, i) => $"\"{t}\": {256 + i}"));
        return "{" + string.Join(", ", entries) + "}";
    }

    static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");

    [Fact]
    public void MalformedVocabAndMergesNameFileAndLine()
    {
        var badJson = Write("broken.json", "{\"a\": 1,");
        Assert.Contains("broken.json", Assert.Throws<FormatException>(() => BpeTokenizer.FromVocabAndMerges(badJson, "x")).Message);
        var notInt = Write("notint.json", "{\"a\": \"one\"}");
        Assert.Contains("\"a\"", Assert.Throws<FormatException>(() => BpeTokenizer.FromVocabAndMerges(notInt, "x")).Message);
        var vocab = Write("vocab.json", ByteVocabJson("ab"));
        var threeParts = Write("merges3.txt", "#version: 0.2\na b\nx y z\n");
        Assert.Contains("merges3.txt:3", Assert.Throws<FormatException>(() => BpeTokenizer.FromVocabAndMerges(vocab, threeParts)).Message);
        var unknown = Write("merges-unknown.txt", "a b\nb c\n");
        Assert.Contains("merges-unknown.txt:2", Assert.Throws<InvalidDataException>(() => BpeTokenizer.FromVocabAndMerges(vocab, unknown)).Message);
        var ok = Write("merges-ok.txt", "a b\n");
        Assert.Equal([256], BpeTokenizer.FromVocabAndMerges(vocab, ok).Encode("ab"));
    }

    [Fact]
    public void TokenizerJsonProblemsNameTheKey()
    {
        Assert.Contains("\"model\"", Assert.Throws<FormatException>(() => BpeTokenizer.FromTokenizerJson(Write("t1.json", "{}"))).Message);
        var unknownPattern = Write("t2.json", $$$"""
            {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
             "model": {"type": "BPE", "vocab": {{{ByteVocabJson()}}}, "merges": []}}
            """);
        var e = Assert.Throws<NotSupportedException>(() => BpeTokenizer.FromTokenizerJson(unknownPattern));
        Assert.Contains("pattern", e.Message);
        var arrayMerges = Write("t3.json", $$$"""
            {"added_tokens": [{"id": 257, "content": "<|eot|>", "special": true}], "normalizer": null,
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
             "model": {"type": "BPE", "vocab": {{{ByteVocabJson("ab")}}}, "merges": [["a", "b"]]}}
            """);
        var t = BpeTokenizer.FromTokenizerJson(arrayMerges);
        Assert.Equal([256, 257], t.Encode("ab<|eot|>", SpecialTokenPolicy.AllowAll));
        var badMerge = Write("t4.json", $$$"""
            {"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {{{ByteVocabJson()}}}, "merges": [3]}}
            """);
        Assert.Contains("model.merges[0]", Assert.Throws<FormatException>(() => BpeTokenizer.FromTokenizerJson(badMerge)).Message);
    }
}

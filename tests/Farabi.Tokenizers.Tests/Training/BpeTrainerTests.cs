using System.IO.Compression;
using System.Text;
using System.Text.Json;
using CsCheck;
using Farabi.Testing;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Bpe.Training;
using Farabi.Tokenizers.Normalizers;
using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.Training;

public class BpeTrainerTests
{
    static List<(string, string)> MergeStrings(BpeTrainingResult r) =>
        r.Merges.Select(m => (ByteLevel.Encode(r.Tokens[m.Left]), ByteLevel.Encode(r.Tokens[m.Right]))).ToList();

    static List<(string, string)> MergeStrings(List<(byte[] Left, byte[] Right)> merges) =>
        merges.Select(m => (ByteLevel.Encode(m.Left), ByteLevel.Encode(m.Right))).ToList();

    static BpeTrainingResult Train(string text, int merges, string[]? specials = null, int minFrequency = 1, PreTokenizer? preTokenizer = null) =>
        new BpeTrainer(new BpeTrainerOptions
        {
            VocabSize = 256 + merges + (specials?.Length ?? 0),
            SpecialTokens = specials ?? [],
            MinPairFrequency = minFrequency,
            PreTokenizer = preTokenizer ?? PreTokenizer.Gpt2,
        }).Train(text, TestContext.Current.CancellationToken);

    [Fact]
    public void TiesGoToTheLexicographicallyGreaterPair()
    {
        // Every pair occurs once: ("c","d") beats ("a","b"); then ("ĠX","y") beats ("Ġ","X") since "ĠX" > "Ġ".
        var r = Train("ab cd", 2);
        Assert.Equal([("c", "d"), ("a", "b")], MergeStrings(r));
        Assert.Equal(258, r.VocabSize);
        Assert.Equal("cd"u8.ToArray(), r.Tokens[256]);
    }

    [Fact]
    public void MergesTheWikipediaExampleLikeTheTextbookAlgorithm()
    {
        // aaabdaaabac: "aa" (4) first, then the tie between ("aa","a") and ("a","b") at 2 goes to "aa" > "a".
        var r = Train("aaabdaaabac", 3, preTokenizer: PreTokenizer.Gpt2);
        Assert.Equal([("a", "a"), ("aa", "a"), ("aaa", "b")], MergeStrings(r));
    }

    [Theory]
    [InlineData("tokenizer/bpe-training/german.txt")]
    [InlineData("tokenizer/bpe-training/address.txt")]
    [InlineData("tokenizer/bpe-training/tinystories_sample.txt")]
    public void AgreesWithTheTextbookTrainerOnSmallTexts(string file)
    {
        var text = File.ReadAllText(SharedData.Require(file));
        string[] specials = ["<|endoftext|>"];
        var expected = NaiveBpe.Train([text], 120, specials, PreTokenizer.Gpt2);
        var actual = Train(text, 120, specials);
        Assert.Equal(MergeStrings(expected), MergeStrings(actual));
    }

    [Fact]
    public void AgreesWithTheTextbookTrainerOnRandomTexts()
    {
        // Few distinct letters make long repeats ("aaaa", "abab") where incremental updates go wrong first.
        var gen = Gen.String[Gen.Char["ab c\u00e9\u0633\u200c\n"], 0, 120];
        gen.Sample(text =>
        {
            if (text.Length == 0) return; // an empty corpus is an error, tested below
            var expected = NaiveBpe.Train([text], 40, [], PreTokenizer.Gpt2);
            var actual = Train(text, 40);
            Assert.Equal(MergeStrings(expected), MergeStrings(actual));
        }, iter: 300);
    }

    [Fact]
    public void NoMergeCrossesOrContainsASpecialToken()
    {
        var text = File.ReadAllText(SharedData.Require("tokenizer/bpe-training/tinystories_sample.txt"));
        const string eot = "<|endoftext|>";
        var r = Train(text, 400, [eot]);
        var eotBytes = Encoding.UTF8.GetBytes(eot);
        foreach (var token in r.Tokens.Take(r.Tokens.Count - 1))
        {
            Assert.False(token.AsSpan().IndexOf(eotBytes) >= 0, $"token '{Encoding.UTF8.GetString(token)}' contains the special token");
            Assert.False(token.AsSpan().IndexOf("|>"u8) >= 0 && token.AsSpan().IndexOf("<|"u8) >= 0);
        }
        // Cutting at the special is the same as training on the pieces between them.
        var separately = NaiveBpe.Train(text.Split(eot), 400, [], PreTokenizer.Gpt2);
        Assert.Equal(MergeStrings(separately), MergeStrings(r));
        Assert.Equal(eotBytes, r.Tokens[^1]);
        Assert.Equal(r.Tokens.Count - 1, r.SpecialTokens[eot]);
    }

    [Fact]
    public void StopsWhenTheBestPairIsRarerThanTheMinimumFrequency()
    {
        // Pieces: "hello", " hello" twice, " world": the letters of hello pair up 3 times, " h" only twice.
        var r = Train("hello hello hello world", 50, minFrequency: 3);
        var tokens = r.Tokens.Skip(256).Select(t => Encoding.UTF8.GetString(t)).ToList();
        Assert.Contains("hello", tokens);
        Assert.DoesNotContain(tokens, t => t.Contains(' ') || t.Contains('w'));
        Assert.Equal(256 + r.Merges.Count, r.VocabSize);
    }

    [Fact]
    public void ByteTokensComeFirstInGpt2Order()
    {
        var r = Train("abc abc", 2);
        for (var id = 0; id < 256; id++) Assert.Equal([ByteLevel.Gpt2ByteOrder[id]], r.Tokens[id]);
        Assert.Equal((byte)'!', r.Tokens[0][0]);
        Assert.Equal((byte)' ', r.Tokens[ByteLevel.Gpt2ByteOrder.ToList().IndexOf((byte)' ')][0]);
    }

    [Fact]
    public void ParallelCountingGivesTheSameMergesAsOneThread()
    {
        var sb = new StringBuilder();
        var rng = new Random(7);
        string[] words = ["the", "cat", "sat", "on", "mat", "کتاب‌ها", "می‌خواهم", "42", "!!", "don't"];
        for (var line = 0; line < 3000; line++)
        {
            for (var w = 0; w < 8; w++) sb.Append(rng.Next(3) == 0 ? "  " : " ").Append(words[rng.Next(words.Length)]);
            sb.Append(rng.Next(5) == 0 ? "\n\n" : "\n");
        }
        var path = Path.Combine(Path.GetTempPath(), $"farabi-par-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, sb.ToString());
        try
        {
            BpeTrainingResult Run(int threads) => new BpeTrainer(new BpeTrainerOptions { VocabSize = 400, MaxDegreeOfParallelism = threads })
            { ChunkChars = 997 }.Train(TrainingCorpus.FromPath(path), TestContext.Current.CancellationToken);
            var one = Run(1);
            var four = Run(4);
            var whole = Train(sb.ToString(), 400 - 256, minFrequency: 2);
            Assert.Equal(MergeStrings(whole), MergeStrings(one));
            Assert.Equal(MergeStrings(one), MergeStrings(four));
            Assert.Equal(whole.Statistics.Pieces, four.Statistics.Pieces);
            Assert.Equal(whole.Statistics.DistinctWords, four.Statistics.DistinctWords);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AppliesTheNormalizerBeforeCounting()
    {
        // Arabic yeh and kaf become Persian ones, so both spellings count as one word.
        var options = new BpeTrainerOptions { VocabSize = 300, PreTokenizer = PreTokenizer.Persian, Normalizer = Normalizer.Persian, MinPairFrequency = 1 };
        var r = new BpeTrainer(options).Train("كتاب كتاب کتاب يك یک", TestContext.Current.CancellationToken);
        Assert.Equal("persian", r.NormalizerName);
        Assert.Equal("persian", r.PreTokenizerName);
        Assert.DoesNotContain(r.Tokens.Skip(256), t => Encoding.UTF8.GetString(t).Contains('\u0643') || Encoding.UTF8.GetString(t).Contains('\u064A'));
        Assert.Contains(r.Tokens, t => Encoding.UTF8.GetString(t) == "کتاب");
    }

    [Theory]
    [InlineData(255, new string[0])]
    [InlineData(256, new[] { "<|endoftext|>" })]
    public void RejectsAVocabularySmallerThanBytesPlusSpecials(int vocabSize, string[] specials)
    {
        var e = Assert.Throws<ArgumentException>(() => new BpeTrainer(new BpeTrainerOptions { VocabSize = vocabSize, SpecialTokens = specials }));
        Assert.Contains($"Vocabulary size {vocabSize}", e.Message);
    }

    [Fact]
    public void RejectsDuplicateOrEmptySpecialTokens()
    {
        Assert.Throws<ArgumentException>(() => new BpeTrainer(new BpeTrainerOptions { SpecialTokens = ["<a>", "<a>"] }));
        Assert.Throws<ArgumentException>(() => new BpeTrainer(new BpeTrainerOptions { SpecialTokens = [""] }));
        Assert.Throws<ArgumentException>(() => new BpeTrainer(new BpeTrainerOptions { SpecialTokens = ["a\nb"] }));
    }

    [Fact]
    public void AnEmptyCorpusIsAClearError()
    {
        var trainer = new BpeTrainer(new BpeTrainerOptions { VocabSize = 300, SpecialTokens = ["<|endoftext|>"] });
        var e = Assert.Throws<InvalidDataException>(() => trainer.Train("<|endoftext|><|endoftext|>", TestContext.Current.CancellationToken));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void SavesVocabMergesAndConfigInGpt2Form()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"farabi-save-{Guid.NewGuid():N}");
        try
        {
            var r = Train("low lower lowest newer newest <|endoftext|> wider", 20, ["<|endoftext|>"]);
            r.Save(dir);
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(dir, "vocab.json")))!;
            Assert.Equal(r.VocabSize, vocab.Count);
            Assert.Equal(Enumerable.Range(0, r.VocabSize), vocab.Values.Order());
            Assert.Equal(r.VocabSize - 1, vocab["<|endoftext|>"]);
            Assert.Equal(ByteLevel.Gpt2ByteOrder.ToList().IndexOf((byte)' '), vocab["Ġ"]);
            foreach (var (token, id) in vocab.Where(kv => kv.Key != "<|endoftext|>"))
            {
                Assert.True(ByteLevel.TryDecode(token, out var bytes));
                Assert.Equal(r.Tokens[id], bytes);
            }
            var lines = File.ReadAllLines(Path.Combine(dir, "merges.txt"));
            Assert.Equal("#version: 0.2", lines[0]);
            Assert.Equal(r.Merges.Count, lines.Length - 1);
            for (var k = 0; k < r.Merges.Count; k++)
            {
                var parts = lines[k + 1].Split(' ');
                Assert.Equal(256 + k, vocab[parts[0] + parts[1]]);
                Assert.Equal(r.Merges[k].Left, vocab[parts[0]]);
                Assert.Equal(r.Merges[k].Right, vocab[parts[1]]);
            }
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "farabi_tokenizer.json")));
            Assert.Equal("gpt2", config.RootElement.GetProperty("pre_tokenizer").GetString());
            Assert.Equal(r.VocabSize - 1, config.RootElement.GetProperty("special_tokens").GetProperty("<|endoftext|>").GetInt32());
            Assert.Equal(JsonValueKind.Null, config.RootElement.GetProperty("normalizer").ValueKind);
            Assert.Equal(r.VocabSize, config.RootElement.GetProperty("vocab_size").GetInt32());
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void ASpecialTokenThatWouldCollideInVocabJsonIsRefusedBeforeWriting()
    {
        // "Ġ" is how vocab.json writes the space byte, so a special token "Ġ" would be a duplicate key.
        var r = Train("a b", 1, ["Ġ"]);
        var dir = Path.Combine(Path.GetTempPath(), $"farabi-collide-{Guid.NewGuid():N}");
        var e = Assert.Throws<ArgumentException>(() => r.Save(dir));
        Assert.Contains("'Ġ'", e.Message);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void ReportsProgressForBothStages()
    {
        var stages = new List<BpeTrainingProgress>();
        var options = new BpeTrainerOptions { VocabSize = 300, MaxDegreeOfParallelism = 1, Progress = p => { lock (stages) stages.Add(p); } };
        new BpeTrainer(options).Train("the quick brown fox jumps over the lazy dog, the end", TestContext.Current.CancellationToken);
        Assert.Contains(stages, p => p.Stage == BpeTrainingStage.Counting);
        var last = stages.Last();
        Assert.Equal(BpeTrainingStage.Merging, last.Stage);
        Assert.Equal(44, last.Total);
    }
}

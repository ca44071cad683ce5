using System.IO.Compression;
using System.Text;
using Farabi.Tokenizers.Bpe.Training;
using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.Training;

public sealed class TrainingCorpusTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"farabi-corpus-{Guid.NewGuid():N}");

    public TrainingCorpusTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    string WriteGzip(string name, string text)
    {
        var path = Path.Combine(dir, name);
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(text));
        return path;
    }

    const string Sample = "The cat sat.\n  Indented line\n\nNew paragraph, 2024!\r\nسلام دنیا\n   \nend";

    static List<(string, string)> Merges(BpeTrainingResult r) =>
        r.Merges.Select(m => (Encoding.UTF8.GetString(r.Tokens[m.Left]), Encoding.UTF8.GetString(r.Tokens[m.Right]))).ToList();

    static BpeTrainingResult Train(TrainingCorpus corpus) =>
        new BpeTrainer(new BpeTrainerOptions { VocabSize = 300, MinPairFrequency = 1 }).Train(corpus, TestContext.Current.CancellationToken);

    [Fact]
    public void PlainTextIsCutOnlyAtLineStartsAndLosesNothing()
    {
        var text = string.Concat(Enumerable.Repeat(Sample.Replace("\r\n", "\n") + "\n", 40));
        var corpus = TrainingCorpus.FromPath(Write("a.txt", text));
        var chunks = corpus.ReadTexts(chunkChars: 120).ToList();
        Assert.True(chunks.Count > 10);
        Assert.Equal(text, string.Concat(chunks));
        foreach (var chunk in chunks.SkipLast(1))
        {
            Assert.EndsWith("\n", chunk);
        }
        foreach (var chunk in chunks.Skip(1)) Assert.False(char.IsWhiteSpace(chunk[0]));
        // The cut points are piece boundaries: pre-tokenizing the chunks gives the pieces of the whole.
        foreach (var pre in new[] { PreTokenizer.Gpt2, PreTokenizer.Persian })
            Assert.Equal(pre.Split(text), chunks.SelectMany(pre.Split));
    }

    [Fact]
    public void CrLfTextIsCutBeforeLineBreaksThatFollowALetter()
    {
        var text = string.Concat(Enumerable.Repeat("One line here.\r\nAnother one\r\n\r\n  indented 42\r\n", 30));
        var chunks = TrainingCorpus.FromPath(Write("crlf.txt", text)).ReadTexts(chunkChars: 60).ToList();
        Assert.True(chunks.Count > 10);
        Assert.Equal(text, string.Concat(chunks));
        foreach (var pre in new[] { PreTokenizer.Gpt2, PreTokenizer.Persian })
            Assert.Equal(pre.Split(text), chunks.SelectMany(pre.Split));
    }

    [Fact]
    public void GzipAndPlainFilesGiveTheSameVocabulary()
    {
        var plain = Train(TrainingCorpus.FromPath(Write("a.txt", Sample)));
        var gz = Train(TrainingCorpus.FromPath(WriteGzip("a.txt.gz", Sample)));
        var gzNoExtension = Train(TrainingCorpus.FromPath(WriteGzip("b.data", Sample)));
        Assert.Equal(Merges(plain), Merges(gz));
        Assert.Equal(Merges(plain), Merges(gzNoExtension));
    }

    [Fact]
    public void JsonLinesGiveEachRecordAsATextOfItsOwn()
    {
        var path = Write("d.jsonl", "{\"text\": \"hello world\", \"id\": 1}\n\n{\"text\": \"سلام\\u200cها\"}\n");
        var texts = TrainingCorpus.FromPath(path, jsonField: "text").ReadTexts().ToList();
        Assert.Equal(["hello world", "سلام\u200cها"], texts);
        var gz = WriteGzip("d.jsonl.gz", File.ReadAllText(path));
        Assert.Equal(texts, TrainingCorpus.FromPath(gz, jsonField: "text").ReadTexts());
    }

    [Fact]
    public void AMalformedJsonLineNamesFileAndLine()
    {
        var path = Write("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"text\": oops}\n");
        var e = Assert.Throws<InvalidDataException>(() => TrainingCorpus.FromPath(path, "text").ReadTexts().ToList());
        Assert.Contains("bad.jsonl line 3", e.Message);
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void AJsonLineWithoutTheFieldNamesFileAndLine()
    {
        var path = Write("missing.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"no text here\"}\n");
        var e = Assert.Throws<InvalidDataException>(() => Train(TrainingCorpus.FromPath(path, "text")));
        Assert.Contains("missing.jsonl line 2", e.Message);
        Assert.Contains("'text'", e.Message);
    }

    [Fact]
    public void AMissingFileIsAClearError()
    {
        var missing = Path.Combine(dir, "nope.txt");
        var e = Assert.Throws<FileNotFoundException>(() => TrainingCorpus.FromPath(missing));
        Assert.Contains("nope.txt", e.Message);
    }

    [Fact]
    public void AFolderIsReadRecursivelyInPathOrderSkippingHiddenFiles()
    {
        Write("b.txt", "second\n");
        Write("a/x.txt", "first\n");
        Write(".hidden/y.txt", "hidden\n");
        Write(".z.txt", "hidden\n");
        var corpus = TrainingCorpus.FromPath(dir);
        Assert.Equal(["first\n", "second\n"], corpus.ReadTexts());
    }

    [Fact]
    public void AnEmptyFileIsAnEmptyCorpus()
    {
        var e = Assert.Throws<InvalidDataException>(() => Train(TrainingCorpus.FromPath(Write("empty.txt", ""))));
        Assert.Contains("empty.txt", e.Message);
        Assert.Contains("empty", e.Message);
    }
}

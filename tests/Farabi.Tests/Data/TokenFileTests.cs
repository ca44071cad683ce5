using System.Text.Json.Nodes;
using Farabi.Data;
using Farabi.Tests.Models;
using Xunit;

namespace Farabi.Tests.Data;

public sealed class TokenFileTests
{
    static TokenFileInfo Info(int vocab) => new("", vocab, 0, 0, new JsonObject { ["mode"] = "test" }, "all", []);

    [Fact]
    public void Small_vocabularies_round_trip_as_uint16()
    {
        var path = Path.Combine(TinyModels.TempDir(), "a.bin");
        int[] ids = [0, 1, 64, 3, 64, 0];
        var info = TokenFile.Write(path, ids, Info(65));
        Assert.Equal("uint16", info.DType);
        Assert.Equal(ids.Length * 2, new FileInfo(path).Length);
        using var file = TokenFile.Open(path);
        Assert.Equal(ids.Select(i => (long)i), file.ReadAll());
        Assert.Equal(65, file.VocabSize);
    }

    [Fact]
    public void Vocabularies_above_65536_round_trip_as_uint32()
    {
        var path = Path.Combine(TinyModels.TempDir(), "b.bin");
        int[] ids = [0, 65535, 65536, 69999, 12];
        var info = TokenFile.Write(path, ids, Info(70000));
        Assert.Equal("uint32", info.DType);
        Assert.Equal(ids.Length * 4, new FileInfo(path).Length);
        using var file = TokenFile.Open(path);
        Assert.Equal(ids.Select(i => (long)i), file.ReadAll());
        var window = new long[2];
        file.Read(2, window);
        Assert.Equal([65536L, 69999L], window);
    }

    [Fact]
    public void An_id_outside_the_vocabulary_is_refused_and_nothing_is_written()
    {
        var path = Path.Combine(TinyModels.TempDir(), "c.bin");
        Assert.Throws<ArgumentException>(() => TokenFile.Write(path, [1, 2, 65], Info(65)));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_truncated_token_file_is_a_clear_error()
    {
        var path = Path.Combine(TinyModels.TempDir(), "d.bin");
        TokenFile.Write(path, [1, 2, 3, 4], Info(10));
        using (var s = new FileStream(path, FileMode.Open)) s.SetLength(5);
        var e = Assert.Throws<InvalidDataException>(() => TokenFile.Open(path));
        Assert.Contains("d.bin", e.Message);
    }

    [Fact]
    public void Char_corpus_splits_ninety_ten_and_records_the_vocabulary()
    {
        var files = TinyCorpus.Write(1000, 0.1);
        var text = TinyCorpus.Text(1000);
        Assert.Equal(text.Length, files.Train.Count + files.Val!.Count);
        Assert.Equal((int)(text.Length * 0.9), files.Train.Count);
        Assert.Equal(TokenCorpus.ValPathFor(files.TrainPath), files.ValPath);
        using var train = TokenFile.Open(files.TrainPath);
        var tokenizer = TextTokenizers.FromJson(train.Info.Tokenizer, "sidecar");
        Assert.Equal(text[..(int)files.Train.Count], tokenizer.Decode(train.ReadAll().Select(i => (int)i)));
        Assert.Equal(files.Train.Count, train.Info.Bytes); // ASCII: one byte per character
    }

    [Fact]
    public void Char_vocabulary_is_the_sorted_distinct_characters()
    {
        var tokenizer = CharTokenizer.FromText("hello, world");
        Assert.Equal([" ", ",", "d", "e", "h", "l", "o", "r", "w"], tokenizer.Characters);
        Assert.Equal([4, 3, 5, 5, 6], tokenizer.Encode("hello"));
        Assert.Throws<ArgumentException>(() => tokenizer.Encode("hex"));
        Assert.Equal("héllo 🙂", ByteTokenizer.Instance.Decode(ByteTokenizer.Instance.Encode("héllo 🙂")));
        Assert.Equal(11, ByteTokenizer.Instance.Encode("héllo 🙂").Length); // 1 + 2 + 3 + 1 + 4 UTF-8 bytes
    }
}

using System.IO.Compression;
using System.Text;
using Farabi.Tokenizers.Clip;
using Xunit;

namespace Farabi.Tokenizers.Tests.Clip;

public sealed class ClipTokenizerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-clip-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A tiny merges file in bpe_simple_vocab_16e6.txt's format: a version header, then merges by rank.
    const string TinyMerges = "\"bpe_simple_vocab_16e6.txt#version: 0.2\n" +
        "h e\n" + "l l\n" + "he ll\n" + "hell o</w>\n" + "c a\n" + "ca t</w>\n" + "p h\n" + "o t\n" + "ph ot\n" + "phot o</w>\n" + "o f</w>\n";

    ClipTokenizer Tiny()
    {
        var path = Path.Combine(_dir, "bpe_tiny.txt.gz");
        using (var f = File.Create(path))
        using (var gz = new GZipStream(f, CompressionLevel.Fastest))
            gz.Write(Encoding.UTF8.GetBytes(TinyMerges));
        return ClipTokenizer.LoadOpenAi(path);
    }

    [Fact]
    public void Vocabulary_order_is_bytes_then_bytes_with_word_end_then_merges_then_markers()
    {
        var t = Tiny();
        // '!' is the first byte character, so "!" = 0 and "!</w>" = 256; 'a' is 97 - 33 = 64 places later.
        Assert.Equal(0, t.TokenToId("!"));
        Assert.Equal(256, t.TokenToId("!</w>"));
        Assert.Equal(64, t.TokenToId("a"));
        // 320 is "a</w>", the id every CLIP user sees for the word "a" (and 269 is ".</w>").
        Assert.Equal(320, t.TokenToId("a</w>"));
        Assert.Equal(269, t.TokenToId(".</w>"));
        // Non-printable bytes come after the 188 printable ones: the space byte 0x20 is "Ġ" at 188 + 32 = 220.
        Assert.Equal(220, t.TokenToId("Ġ"));
        Assert.Equal(512, t.TokenToId("he"));
        Assert.Equal(515, t.TokenToId("hello</w>"));
        Assert.Equal(512 + 11, t.StartOfTextId);
        Assert.Equal(512 + 12, t.EndOfTextId);
        Assert.Equal(512 + 13, t.VocabSize);
    }

    [Fact]
    public void A_full_size_merges_file_gives_clips_id_layout()
    {
        // 48,894 merges are read (extra lines ignored): 256 + 256 + 48,894 + 2 = 49,408 tokens.
        var merges = Enumerable.Range(0, ClipTokenizer.ClipMergeCount + 50).Select(i => ($"q{i}", "z"));
        var t = ClipTokenizer.FromMerges(merges);
        Assert.Equal(49408, t.VocabSize);
        Assert.Equal(49406, t.StartOfTextId);
        Assert.Equal(49407, t.EndOfTextId);
        Assert.Equal(ClipTokenizer.ClipMergeCount, t.Merges.Count);
        Assert.Equal(49405, t.TokenToId($"q{ClipTokenizer.ClipMergeCount - 1}z"));
        Assert.Null(t.TokenToId($"q{ClipTokenizer.ClipMergeCount}z"));
    }

    [Fact]
    public void Bpe_merges_by_rank_and_marks_word_ends()
    {
        var t = Tiny();
        Assert.Equal(["hello</w>", "cat</w>"], t.EncodeToTokens("Hello CAT"));
        Assert.Equal(["a</w>", "photo</w>", "of</w>", "a</w>", "cat</w>", ".</w>"], t.EncodeToTokens("a photo of a cat."));
        // "cats" has no "t s" merge: the </w> sits on the last symbol only.
        Assert.Equal(["ca", "t", "s</w>"], t.EncodeToTokens("cats"));
        // Digits are one per piece, so every digit ends a word.
        Assert.Equal(["2</w>", "0</w>", "2</w>", "4</w>"], t.EncodeToTokens("2024"));
    }

    [Fact]
    public void Tokenize_frames_pads_and_truncates_to_the_context()
    {
        var t = Tiny();
        var row = t.Tokenize("hello cat");
        Assert.Equal(77, row.Length);
        Assert.Equal([t.StartOfTextId, 515, 517, t.EndOfTextId, 0], row[..5]);
        Assert.All(row[4..], id => Assert.Equal(0, id));
        var longText = string.Join(' ', Enumerable.Repeat("cat", 100));
        var e = Assert.Throws<ArgumentException>(() => t.Tokenize(longText));
        Assert.Contains("context length 77", e.Message);
        var cut = t.Tokenize(longText, truncate: true);
        Assert.Equal(t.StartOfTextId, cut[0]);
        Assert.Equal(t.EndOfTextId, cut[76]);
        Assert.All(cut[1..76], id => Assert.Equal(517, id));
        // Exactly 75 words + 2 markers fit without truncation.
        Assert.Equal(t.EndOfTextId, t.Tokenize(string.Join(' ', Enumerable.Repeat("cat", 75)))[76]);
        Assert.Equal(8, t.Tokenize("cat", contextLength: 8).Length);
    }

    [Fact]
    public void Markers_in_the_text_become_their_ids()
    {
        var t = Tiny();
        Assert.Equal([t.StartOfTextId, 517, t.EndOfTextId], t.Encode("<|startoftext|>cat <|endoftext|>"));
    }

    [Fact]
    public void Decode_turns_word_ends_into_spaces_and_round_trips_unicode()
    {
        var t = Tiny();
        Assert.Equal("hello cat ", t.Decode(t.Encode("Hello   cat")));
        Assert.Equal("héllo 猫 ! ", t.Decode(t.Encode("héllo 猫!")));
    }

    [Fact]
    public void Hf_vocab_json_and_merges_txt_round_trip_and_pad_with_end_of_text()
    {
        var t = Tiny();
        t.SaveHf(_dir);
        Assert.StartsWith("#version: 0.2\nh e\n", File.ReadAllText(Path.Combine(_dir, "merges.txt")));
        var hf = ClipTokenizer.LoadHf(Path.Combine(_dir, "vocab.json"), Path.Combine(_dir, "merges.txt"));
        Assert.Equal(t.VocabSize, hf.VocabSize);
        Assert.Equal(t.Encode("a photo of a cat."), hf.Encode("a photo of a cat."));
        Assert.Equal(hf.EndOfTextId, hf.PadId);
        Assert.Equal(hf.EndOfTextId, hf.Tokenize("cat")[5]);
    }

    [Fact]
    public void Malformed_files_are_named_with_the_line()
    {
        var noHeader = Path.Combine(_dir, "m1.txt");
        File.WriteAllText(noHeader, "h e\nl l\n");
        Assert.Contains("version header", Assert.Throws<InvalidDataException>(() => ClipTokenizer.LoadOpenAi(noHeader)).Message);
        var bad = Path.Combine(_dir, "m2.txt");
        File.WriteAllText(bad, "#version: 0.2\nh e\nabc\n");
        var e = Assert.Throws<InvalidDataException>(() => ClipTokenizer.LoadOpenAi(bad));
        Assert.Contains($"{bad} line 3", e.Message);
        var vocab = Path.Combine(_dir, "vocab.json");
        File.WriteAllText(vocab, "{\"h\": 0, \"e\": 1, \"<|startoftext|>\": 2, \"<|endoftext|>\": 3}");
        var merges = Path.Combine(_dir, "merges.txt");
        File.WriteAllText(merges, "#version: 0.2\nh e\n");
        Assert.Contains("\"he\" is not in", Assert.Throws<InvalidDataException>(() => ClipTokenizer.LoadHf(vocab, merges)).Message);
        Assert.Throws<FileNotFoundException>(() => ClipTokenizer.LoadOpenAi(Path.Combine(_dir, "missing.gz")));
    }
}

public sealed class ClipPreTokenizerTests
{
    [Fact]
    public void Splits_like_clips_pattern_and_drops_whitespace()
    {
        Assert.Equal(["hello", ",", "world", "!", "it", "'s", "2", "0", "2", "4"], ClipPreTokenizer.Split("hello, world! it's 2024"));
        // A run of other characters swallows an apostrophe; contractions only match at a piece start.
        Assert.Equal(["!!'", "s"], ClipPreTokenizer.Split("!!'s"));
        Assert.Equal(["'ll", "'", "x"], ClipPreTokenizer.Split("'ll 'x"));
        Assert.Equal(["<|startoftext|>", "a", "<|endoftext|>"], ClipPreTokenizer.Split("<|startoftext|>a<|endoftext|>"));
        // Inside a symbol run, a marker is not special (the run started before it).
        Assert.Equal(["!<|", "endoftext", "|>"], ClipPreTokenizer.Split("!<|endoftext|>"));
        // Letters outside the BMP are letters (Python's \p{L}), not symbols.
        Assert.Equal(["𝐀b", "½"], ClipPreTokenizer.Split("𝐀b ½"));
        Assert.Equal(["سلام", "دنیا", "۱", "۲"], ClipPreTokenizer.Split("سلام دنیا ۱۲"));
    }

    [Fact]
    public void Cleanup_unescapes_html_twice_collapses_whitespace_and_lowercases()
    {
        Assert.Equal("a&b c", ClipTextCleaner.Clean("  A&amp;amp;B\t\n\u001f C  "));
        Assert.Equal("\"hi\" it's fine", ClipTextCleaner.Clean("“Hi” it’s ﬁne"));
        Assert.Equal("abc 12", ClipTextCleaner.Clean("ＡＢＣ\u3000１２"));
        Assert.Equal("ab", ClipTextCleaner.Clean("a\u0000\uFEFFb"));
    }
}

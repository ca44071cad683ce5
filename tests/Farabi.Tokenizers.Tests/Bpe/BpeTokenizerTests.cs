using System.Text;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Data;
using Xunit;

namespace Farabi.Tokenizers.Tests.Bpe;

public class BpeTokenizerTests
{
    static readonly BpeTokenizer Cl100k = Encodings.Get("cl100k_base");
    static readonly BpeTokenizer Gpt2 = Encodings.Get("gpt2");

    [Fact]
    public void KnownIdsForHelloWorld()
    {
        Assert.Equal([31373, 995], Gpt2.Encode("hello world"));
        Assert.Equal([15339, 1917], Cl100k.Encode("hello world"));
        Assert.Equal("hello world", Cl100k.Decode([15339, 1917]));
    }

    [Fact]
    public void ByDefaultASpecialTokenInTheTextIsAnErrorThatNamesIt()
    {
        var e = Assert.Throws<FormatException>(() => Cl100k.Encode("hi <|fim_prefix|> there"));
        Assert.Contains("<|fim_prefix|>", e.Message);
    }

    [Fact]
    public void AllowedSpecialsBecomeTheirIdsAndOthersStayErrors()
    {
        Assert.Equal([6151, 220, 100257], Cl100k.Encode("hi <|endoftext|>", SpecialTokenPolicy.AllowAll));
        Assert.Equal([6151, 220, 100257], Cl100k.Encode("hi <|endoftext|>", ["<|endoftext|>"]));
        var e = Assert.Throws<FormatException>(() => Cl100k.Encode("<|endoftext|><|endofprompt|>", ["<|endoftext|>"]));
        Assert.Contains("<|endofprompt|>", e.Message);
        // An empty disallowed set makes the other specials ordinary text.
        var ids = Cl100k.Encode("<|endoftext|><|endofprompt|>", ["<|endoftext|>"], []);
        Assert.Equal(100257, ids[0]);
        Assert.DoesNotContain(100276, ids);
        Assert.Equal("<|endoftext|><|endofprompt|>", Cl100k.Decode(ids));
    }

    [Fact]
    public void SpecialsAsTextAreEncodedLikeAnyOtherText()
    {
        var ids = Cl100k.EncodeOrdinary("<|endoftext|>");
        Assert.True(ids.Length > 1);
        Assert.DoesNotContain(100257, ids);
        Assert.Equal("<|endoftext|>", Cl100k.Decode(ids));
    }

    [Fact]
    public void CountSpanAndBatchAgreeWithEncode()
    {
        var texts = new[] { "The quick brown fox", "سلام دنیا، می‌خواهم", "🙂👍🏽 emoji", "", "  \n\n  x" };
        var batch = Cl100k.EncodeBatch(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            var ids = Cl100k.Encode(texts[i]);
            Assert.Equal(ids, batch[i]);
            Assert.Equal(ids.Length, Cl100k.CountTokens(texts[i]));
            var span = new int[ids.Length];
            Assert.True(Cl100k.TryEncode(texts[i], span, out var written));
            Assert.Equal(ids, span[..written]);
            if (ids.Length > 0) Assert.False(Cl100k.TryEncode(texts[i], new int[ids.Length - 1], out _));
        }
    }

    [Fact]
    public void InvalidUtf8DecodesToReplacementCharactersAsTiktokenDoes()
    {
        // "😀" is F0 9F 98 80; GPT-2 splits it over several tokens. Its first token alone is a
        // truncated sequence: one U+FFFD, as Python's bytes.decode(errors="replace") gives.
        var ids = Gpt2.Encode("😀");
        Assert.True(ids.Length > 1);
        Assert.Equal("\uFFFD", Gpt2.Decode(ids[..1]));
        var lone = Gpt2.TokenId([0xFF])!.Value;
        Assert.Equal("a\uFFFDb", Gpt2.Decode([Gpt2.Encode("a")[0], lone, Gpt2.Encode("b")[0]]));
        Assert.Equal(Encoding.UTF8.GetBytes("😀"), Gpt2.DecodeBytes(ids));
    }

    [Fact]
    public void UnknownIdsAreRejectedByName()
    {
        Assert.False(Cl100k.ContainsId(100256)); // a gap in cl100k's ids
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Cl100k.Decode([100256]));
        Assert.Contains("100256", e.Message);
    }

    [Fact]
    public void StreamingDecoderEmitsTextOnlyAtCharacterBoundaries()
    {
        const string text = "a😀ب👍🏽z";
        var ids = Gpt2.Encode(text);
        var decoder = Gpt2.CreateStreamingDecoder();
        var pieces = ids.Select(id => decoder.Push(id)).ToList();
        pieces.Add(decoder.Flush());
        Assert.Equal(text, string.Concat(pieces));
        // No emitted piece ends inside a surrogate pair or holds a replacement character.
        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        Assert.All(pieces.Where(p => p.Length > 0), p => Assert.False(char.IsHighSurrogate(p[^1])));
        Assert.Contains("", pieces); // at least one id completed no character
    }

    [Fact]
    public void StreamingDecoderFlushReplacesAnUnfinishedCharacter()
    {
        var ids = Gpt2.Encode("😀");
        var decoder = Gpt2.CreateStreamingDecoder();
        Assert.Equal("", decoder.Push(ids[0]));
        Assert.Equal("\uFFFD", decoder.Flush());
    }

    [Fact]
    public void LongPiecesMergeExactlyAsTheQuadraticReference()
    {
        // Pieces longer than the scan limit take the heap path; compare both with the plain algorithm.
        var rng = new Random(7);
        var alphabet = "abcdeتبپث";
        foreach (var length in new[] { 50, 97, 200, 400 })
        {
            var word = new string(Enumerable.Range(0, length).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray());
            var bytes = Encoding.UTF8.GetBytes(word);
            Assert.Equal(ReferenceMerge(Gpt2, bytes), Gpt2.Encode(word));
        }
        var run = new string('a', 5000);
        Assert.Equal(run, Gpt2.Decode(Gpt2.Encode(run)));
        Assert.Equal(ReferenceMerge(Gpt2, Encoding.UTF8.GetBytes(run[..500])), Gpt2.Encode(run[..500]));
    }

    /// <summary>tiktoken's algorithm written plainly: join the lowest-ranked adjacent pair (leftmost on ties) until none is a token.</summary>
    static int[] ReferenceMerge(BpeTokenizer t, byte[] bytes)
    {
        var parts = bytes.Select(b => new[] { b }).ToList();
        while (true)
        {
            var best = int.MaxValue;
            var at = -1;
            for (var i = 0; i + 1 < parts.Count; i++)
            {
                if (t.TokenId([.. parts[i], .. parts[i + 1]]) is { } rank && rank < best) { best = rank; at = i; }
            }
            if (at < 0) break;
            parts[at] = [.. parts[at], .. parts[at + 1]];
            parts.RemoveAt(at + 1);
        }
        return parts.Select(p => t.TokenId(p)!.Value).ToArray();
    }

    [Fact]
    public void EncodingIntoAReusedListAllocatesNothingPerToken()
    {
        var text = string.Concat(Enumerable.Repeat("The river flows; سلام دنیا 😀 again and again. ", 200));
        var ids = new List<int>(text.Length);
        Cl100k.Encode(text, ids, SpecialTokenPolicy.AsText); // warm: thread scratch space and cache
        ids.Clear();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Cl100k.Encode(text, ids, SpecialTokenPolicy.AsText);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1000, $"allocated {allocated} bytes for {ids.Count} tokens");
        before = GC.GetAllocatedBytesForCurrentThread();
        var count = Cl100k.CountTokens(text, SpecialTokenPolicy.AsText);
        Assert.Equal(ids.Count, count);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1000);
    }

    [Fact]
    public void LoneSurrogatesEncodeAsTheReplacementCharacter()
    {
        Assert.Equal(Cl100k.Encode("a\uFFFDb"), Cl100k.Encode("a\uD800b"));
    }
}

using CsCheck;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Data;
using Xunit;

namespace Farabi.Tokenizers.Tests.Properties;

/// <summary>Properties that hold for any text: round trip, determinism, specials kept whole.</summary>
public class EncodingProperties
{
    public static TheoryData<string> EncodingNames => new() { "gpt2", "cl100k_base", "o200k_base" };

    // Fragments across scripts, chosen to hit the pre-tokenizers' edge cases: ZWNJ inside Persian
    // words, Arabic diacritics (marks), CJK, emoji with skin tones and ZWJ sequences (surrogate
    // pairs), whitespace runs mixing tabs, CR/LF and no-break spaces, contractions and digits.
    static readonly string[] Fragments =
    [
        "a", "Z", "the", " The", "don't", "'S", "'ll", "x'VE", "123", "4567890", "٣٤", "۱۲۳", " ", "  ", "\t", "\n", "\r\n", "\n\n",
        "\u00A0", "\u3000", "\u0085", "!", "?!", "...", "//", "—", "()", "<|", "|>", "سلام", "می\u200cخواهم", "\u200c", "كتاب",
        "بِسْمِ", "\u064E", "漢字", "かな", "한국어", "😀", "👍🏽", "👨\u200d👩\u200d👧", "🇮🇷", "𝐀𝐁", "é", "e\u0301", "ß", "Ωmega",
    ];

    static readonly Gen<string> Text = Gen.Int[0, Fragments.Length - 1].Array[0, 24]
        .Select(ix => string.Concat(ix.Select(i => Fragments[i])));

    static readonly Gen<string> RawChars = Gen.Char.Array[0, 30].Select(cs => new string(cs))
        .Where(s => !HasLoneSurrogate(s));

    static bool HasLoneSurrogate(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return true;
        }
        return false;
    }

    [Theory]
    [MemberData(nameof(EncodingNames))]
    public void DecodeOfEncodeIsTheText(string encoding)
    {
        var t = Encodings.Get(encoding);
        Text.Sample(s => Assert.Equal(s, t.Decode(t.Encode(s, SpecialTokenPolicy.AsText))), iter: 2000);
        RawChars.Sample(s => Assert.Equal(s, t.Decode(t.Encode(s, SpecialTokenPolicy.AsText))), iter: 1000);
    }

    [Theory]
    [MemberData(nameof(EncodingNames))]
    public void EncodingIsDeterministicAndCountMatches(string encoding)
    {
        var t = Encodings.Get(encoding);
        Text.Sample(s =>
        {
            var a = t.Encode(s, SpecialTokenPolicy.AsText);
            Assert.Equal(a, t.Encode(s, SpecialTokenPolicy.AsText));
            Assert.Equal(a.Length, t.CountTokens(s, SpecialTokenPolicy.AsText));
        }, iter: 1000);
    }

    [Theory]
    [MemberData(nameof(EncodingNames))]
    public void AllowedSpecialsAreNeverSplit(string encoding)
    {
        var t = Encodings.Get(encoding);
        var specials = t.SpecialTokens.Keys.ToArray();
        var gen = Gen.Select(Text, Text, Gen.Int[0, specials.Length - 1], Gen.Int[1, 3]);
        gen.Sample((left, right, which, times) =>
        {
            var special = specials[which];
            var text = left + string.Concat(Enumerable.Repeat(special + right, times));
            var ids = t.Encode(text, SpecialTokenPolicy.AllowAll);
            Assert.Equal(times, ids.Count(id => id == t.SpecialTokens[special]));
            Assert.Equal(text, t.Decode(ids));
            Assert.Throws<FormatException>(() => t.Encode(text));
        }, iter: 500);
    }
}

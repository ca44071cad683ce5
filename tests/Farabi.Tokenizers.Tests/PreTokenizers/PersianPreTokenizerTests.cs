using CsCheck;
using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.PreTokenizers;

public class PersianPreTokenizerTests
{
    [Theory]
    [InlineData("می‌خواهم", new[] { "می‌خواهم" })]
    [InlineData("من می‌خواهم کتاب‌ها را بخوانم.", new[] { "من", " می‌خواهم", " کتاب‌ها", " را", " بخوانم", "." })]
    [InlineData("مُحَمَّد", new[] { "مُحَمَّد" })]                                   // vowel marks stay in the word
    [InlineData("خانهٔ ما", new[] { "خانهٔ", " ما" })]
    [InlineData("سال ۱۴۰۲۵ و 12345", new[] { "سال", " ", "۱۴۰", "۲۵", " و", " ", "123", "45" })]
    [InlineData("٠١٢٣", new[] { "٠١٢", "٣" })]
    [InlineData("«سلام»، خوبی؟", new[] { "«", "سلام", "»", "،", " خوبی", "؟" })]
    [InlineData("گفت: «نه».", new[] { "گفت", ":", " «", "نه", "»", "." })]
    [InlineData("۵۰٪ سود", new[] { "۵۰", "٪", " سود" })]
    [InlineData("don't  stop", new[] { "don", "'t", " ", " stop" })]
    [InlineData("a  \n\nb", new[] { "a", "  \n", "\n", "b" })]
    [InlineData("GPT‌ها", new[] { "GPT‌ها" })]
    public void SplitsPersianTextIntoWords(string text, string[] expected) =>
        Assert.Equal(expected, PreTokenizer.Persian.Split(text));

    [Fact]
    public void Gpt2SplitsWhatThePersianPreTokenizerKeeps()
    {
        // The reason this pre-tokenizer exists: GPT-2's \p{L}+ cuts at ZWNJ and at every vowel mark.
        Assert.Equal(["می", "\u200C", "خواهم"], PreTokenizer.Gpt2.Split("می\u200Cخواهم"));
        Assert.True(PreTokenizer.Gpt2.Split("مُحَمَّد").Count > 1);
    }

    [Fact]
    public void PiecesTileAnyText()
    {
        Assert.Equal("persian", PreTokenizer.Persian.Name);
        var gen = Gen.String[Gen.OneOf(Gen.Char["ab '\n\t\u200C\u064E۱۲1«»،.!😀"], Gen.Char['\u0600', '\u06FF'], Gen.Char)];
        gen.Sample(s =>
        {
            var pieces = PreTokenizer.Persian.Split(s);
            Assert.Equal(s, string.Concat(pieces));
            Assert.DoesNotContain("", pieces);
        }, iter: 2000);
    }
}

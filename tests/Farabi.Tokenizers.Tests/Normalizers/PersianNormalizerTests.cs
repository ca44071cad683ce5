using CsCheck;
using Farabi.Tokenizers.Normalizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.Normalizers;

public class PersianNormalizerTests
{
    static string Norm(string s, PersianNormalizerOptions? o = null) => new PersianNormalizer(o).Normalize(s);

    [Theory]
    [InlineData("علي", "علی")]                  // Arabic yeh
    [InlineData("مصطفى", "مصطفی")]              // alef maksura
    [InlineData("كتاب", "کتاب")]                // Arabic kaf
    [InlineData("يك كار كوچك", "یک کار کوچک")]
    [InlineData("مسئله", "مسئله")]              // yeh with hamza stays
    public void WritesArabicYehAndKafThePersianWay(string input, string expected) => Assert.Equal(expected, Norm(input));

    [Fact]
    public void ArabicLettersCanBeKept() =>
        Assert.Equal("علي", Norm("علي", new() { UnifyArabicLetters = false }));

    [Fact]
    public void TehMarbutaIsKeptUnlessAskedForHeh()
    {
        Assert.Equal("دائرة‌المعارف", Norm("دائرة‌المعارف"));
        Assert.Equal("کلمه", Norm("كلمة", new() { TehMarbuta = TehMarbutaStyle.ToHeh }));
    }

    [Fact]
    public void HehWithYehComposesOrDecomposes()
    {
        const string composed = "خانۀ من", decomposed = "خانهٔ من";
        Assert.Equal(composed, Norm(composed));
        Assert.Equal(decomposed, Norm(decomposed));
        Assert.Equal(composed, Norm(decomposed, new() { HehYeh = HehYehStyle.Compose }));
        Assert.Equal(decomposed, Norm(composed, new() { HehYeh = HehYehStyle.Decompose }));
    }

    [Fact]
    public void DiacriticsAreRemovedOnlyWhenAsked()
    {
        const string vocalised = "کِتابٌ مُحَمَّد رَحْمٰن خانهٔ";
        Assert.Equal(vocalised, Norm(vocalised));
        // Vowel marks, tanwin, shadda, sukun and superscript alef go; the ezafe hamza above stays.
        Assert.Equal("کتاب محمد رحمن خانهٔ", Norm(vocalised, new() { RemoveDiacritics = true }));
    }

    [Fact]
    public void KashidaIsRemoved() => Assert.Equal("سلام", Norm("ســـلام"));

    [Theory]
    [InlineData(PersianDigits.Unify, "سال ۱۴۰۲ و ۱۲۳ و 2024")]
    [InlineData(PersianDigits.Persian, "سال ۱۴۰۲ و ۱۲۳ و ۲۰۲۴")]
    [InlineData(PersianDigits.Latin, "سال 1402 و 123 و 2024")]
    [InlineData(PersianDigits.Keep, "سال ۱۴۰۲ و ١٢٣ و 2024")]
    public void DigitsFollowTheChosenStyle(PersianDigits style, string expected) =>
        Assert.Equal(expected, Norm("سال ۱۴۰۲ و ١٢٣ و 2024", new() { Digits = style }));

    [Theory]
    [InlineData("می\u200C\u200C\u200Cخواهم", "می\u200Cخواهم")]        // a run becomes one
    [InlineData("کتاب\u200C ها", "کتاب ها")]                           // next to a space
    [InlineData("\u200Cسلام\u200C", "سلام")]                            // at the text's edges
    [InlineData("سلام\u200C.", "سلام.")]                                // before punctuation
    [InlineData("۱۲\u200Cتا", "۱۲تا")]                                  // after a digit
    [InlineData("نمی\u200Cدانم", "نمی\u200Cدانم")]                     // a good one stays
    [InlineData("سلام\u200Bدنیا\u200F!", "سلامدنیا!")]                  // zero-width space and RLM go
    public void CleansZwnj(string input, string expected) => Assert.Equal(expected, Norm(input));

    [Fact]
    public void CleansWhitespace()
    {
        Assert.Equal("سلام دنیا\nخط دوم\n\nبند تازه", Norm("  سلام\u00A0\u00A0 دنیا  \r\n\t خط دوم \n\n\n\n بند تازه \n"));
    }

    [Theory]
    [InlineData("من می خواهم بروم", "من می\u200Cخواهم بروم")]
    [InlineData("او نمی داند", "او نمی\u200Cداند")]
    [InlineData("کتاب ها را آوردم", "کتاب\u200Cها را آوردم")]
    [InlineData("درخت های بلند", "درخت\u200Cهای بلند")]
    [InlineData("این بزرگ تر است و آن بزرگ ترین", "این بزرگ\u200Cتر است و آن بزرگ\u200Cترین")]
    [InlineData("خانه ای دیدم", "خانه\u200Cای دیدم")]
    [InlineData("رفته ام", "رفته\u200Cام")]
    [InlineData("که ای دوست", "که ای دوست")]              // vocative after a two-letter word stays
    [InlineData("گفت ای دوست", "گفت ای دوست")]            // not after a silent heh
    [InlineData("آن ها", "آن\u200Cها")]
    [InlineData("هامون هاشمی", "هامون هاشمی")]            // words that merely start like a suffix
    [InlineData("بزرگ ترک", "بزرگ ترک")]
    [InlineData("می ۵ تا", "می ۵ تا")]                    // a digit is not a verb stem
    [InlineData("۱۲ ها", "۱۲ ها")]
    public void JoinsAffixesWrittenWithASpaceWhenAsked(string input, string expected) =>
        Assert.Equal(expected, Norm(input, new() { JoinAffixes = true }));

    [Fact]
    public void AffixesAreLeftAloneByDefault() => Assert.Equal("می خواهم", Norm("می خواهم"));

    [Fact]
    public void NameRoundTripsTheSettings()
    {
        Assert.Equal("persian", PersianNormalizer.Default.Name);
        Assert.Same(PersianNormalizer.Default, Normalizer.Persian);
        var options = new PersianNormalizerOptions { Digits = PersianDigits.Latin, RemoveDiacritics = true, JoinAffixes = true, HehYeh = HehYehStyle.Compose };
        var n = new PersianNormalizer(options);
        Assert.Equal("persian:heh-yeh=compose,diacritics=remove,digits=latin,affixes=join", n.Name);
        var back = Assert.IsType<PersianNormalizer>(Normalizer.FromName(n.Name));
        Assert.Equal(options, back.Options);
        Assert.Null(Normalizer.FromName(null));
        Assert.Null(Normalizer.FromName("none"));
        Assert.Throws<ArgumentException>(() => Normalizer.FromName("klingon"));
        Assert.Throws<ArgumentException>(() => Normalizer.FromName("persian:digits=roman"));
    }

    [Fact]
    public void NormalizingTwiceChangesNothing()
    {
        var all = new PersianNormalizer(new() { JoinAffixes = true, RemoveDiacritics = true, Digits = PersianDigits.Persian, HehYeh = HehYehStyle.Compose });
        var gen = Gen.String[Gen.OneOf(Gen.Char["يىكةۀهٔ\u064E\u0651ـ٠٥۵5 \u00A0\n\r\t\u200C\u200Fمیهاترای"], Gen.Char['\u0621', '\u064A']), 0, 40];
        gen.Sample(s =>
        {
            foreach (var n in new[] { PersianNormalizer.Default, all })
            {
                var once = n.Normalize(s);
                Assert.Equal(once, n.Normalize(once));
            }
        }, iter: 2000);
    }
}

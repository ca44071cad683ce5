using System.Text.RegularExpressions;
using Farabi.Data;
using Xunit;

namespace Farabi.Tests.Data;

public class BuiltInTextTests
{
    [Fact]
    public void TheSameSeedGivesTheSameText()
    {
        Assert.Equal(BuiltInText.Generate(5000, seed: 3), BuiltInText.Generate(5000, seed: 3));
        Assert.Equal(BuiltInText.GeneratePersian(5000, seed: 3), BuiltInText.GeneratePersian(5000, seed: 3));
    }

    [Fact]
    public void DifferentSeedsGiveDifferentText()
    {
        Assert.NotEqual(BuiltInText.Generate(5000, seed: 1), BuiltInText.Generate(5000, seed: 2));
        Assert.NotEqual(BuiltInText.GeneratePersian(5000, seed: 1), BuiltInText.GeneratePersian(5000, seed: 2));
    }

    [Theory]
    [InlineData(2_000)]
    [InlineData(50_000)]
    [InlineData(1_000_000)]
    public void SizeIsWithinTenPercentOfWhatWasAsked(int chars)
    {
        Assert.InRange(BuiltInText.Generate(chars, seed: 5).Length, chars * 0.9, chars * 1.1);
        Assert.InRange(BuiltInText.GeneratePersian(chars, seed: 5).Length, chars * 0.9, chars * 1.1);
    }

    [Fact]
    public void EnglishLooksLikeProseWithDialogueNumbersAndAFewHundredWords()
    {
        var text = BuiltInText.Generate(300_000, seed: 0);
        var words = Regex.Matches(text, @"[A-Za-z']+").Select(m => m.Value.ToLowerInvariant()).ToList();
        var distinct = words.Distinct().Count();
        Assert.InRange(distinct, 250, 1000);
        // Realistic repetition: the commonest word ("the") is frequent, most words recur.
        var top = words.GroupBy(w => w).MaxBy(g => g.Count())!;
        Assert.Equal("the", top.Key);
        Assert.Contains("\"", text);
        Assert.Matches(@"\d", text);
        Assert.Contains("\n\n", text);
        // Sentences start with a capital letter and end with punctuation.
        foreach (var story in text.Split("\n\n").SkipLast(1))
        {
            Assert.Matches(@"^[A-Z]", story);
            Assert.Matches(@"[.!?""]$", story);
        }
        Assert.DoesNotContain("  ", text);
        Assert.DoesNotContain("{", text);
    }

    [Fact]
    public void PersianUsesZwnjWordsPersianDigitsAndQuotes()
    {
        var text = BuiltInText.GeneratePersian(100_000, seed: 0);
        Assert.Contains("می\u200C", text);
        Assert.Contains("\u200Cها", text);
        Assert.Contains("«", text);
        Assert.Matches("[۰-۹]", text);
        Assert.DoesNotMatch("[يك0-9]", text); // Persian letters and digits only
        Assert.DoesNotContain("{", text);
    }

    [Fact]
    public void TheSeparatorSeparatesStories()
    {
        var text = BuiltInText.Generate(20_000, seed: 1, storySeparator: "\n<|endoftext|>\n");
        Assert.True(text.Split("<|endoftext|>").Length > 5);
    }
}

using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.PreTokenizers;

public class TiktokenPatternTests
{
    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("I'M here", new[] { "I", "'M", " here" })]              // (?i) contractions
    [InlineData("12345 x", new[] { "123", "45", " x" })]                // digits in threes
    [InlineData("\tword", new[] { "\tword" })]                          // any non-letter may lead a word
    [InlineData("(hello)", new[] { "(hello", ")" })]
    [InlineData("a  \n\n  b", new[] { "a", "  \n\n", " ", " b" })]      // \s*[\r\n] then \s+(?!\S)
    [InlineData("x \n ", new[] { "x", " \n " })]                         // \s++$ takes a trailing run whole
    [InlineData("!!\n\nx", new[] { "!!\n\n", "x" })]                    // punctuation keeps its newlines
    [InlineData("می\u200cخواهم", new[] { "می", "\u200cخواهم" })]        // ZWNJ is not a letter
    [InlineData(" 😀😀 a", new[] { " 😀😀", " a" })]
    public void Cl100kSplitsLikeItsRegex(string text, string[] expected) => Assert.Equal(expected, PreTokenizer.Cl100k.Split(text));

    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("camelCaseWord", new[] { "camel", "Case", "Word" })]     // splits at case changes
    [InlineData("HTTPServer", new[] { "HTTPServer" })]                   // upper run then lower run
    [InlineData("HELLO world", new[] { "HELLO", " world" })]
    [InlineData("they're here", new[] { "they're", " here" })]           // contraction attached
    [InlineData("12345", new[] { "123", "45" })]
    [InlineData("a/b//\nc", new[] { "a", "/b", "//\n", "c" })]
    [InlineData("x \n ", new[] { "x", " \n", " " })]                     // no \s++$ in o200k
    [InlineData("بِسْمِ الله", new[] { "بِسْمِ", " الله" })]              // marks stay inside the word
    public void O200kSplitsLikeItsRegex(string text, string[] expected) => Assert.Equal(expected, PreTokenizer.O200k.Split(text));

    [Fact]
    public void KnownPatternsMapToTheirPreTokenizers()
    {
        Assert.Same(PreTokenizer.Cl100k, PreTokenizer.FromPattern(Patterns.Cl100k));
        Assert.Same(PreTokenizer.O200k, PreTokenizer.FromPattern(Patterns.O200k));
        Assert.Same(PreTokenizer.Gpt2, PreTokenizer.FromPattern(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"));
        Assert.Null(PreTokenizer.FromPattern(@"\w+"));
        Assert.Throws<KeyNotFoundException>(() => PreTokenizer.FromName("nope"));
    }
}

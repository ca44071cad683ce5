using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.PreTokenizers;

public class Gpt2PreTokenizerTests
{
    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("I'm here, they've  gone!", new[] { "I", "'m", " here", ",", " they", "'ve", " ", " gone", "!" })]
    [InlineData("a  \n\nb", new[] { "a", "  \n", "\n", "b" })]
    [InlineData("x   ", new[] { "x", "   " })]
    [InlineData("2024 ok", new[] { "2024", " ok" })]
    [InlineData(" 😀😀 a", new[] { " 😀😀", " a" })]
    [InlineData("𝐀𝐁c", new[] { "𝐀𝐁c" })]
    public void SplitsLikeTheGpt2Regex(string text, string[] expected) =>
        Assert.Equal(expected, PreTokenizer.Gpt2.Split(text));

    [Fact]
    public void PiecesTileTheText()
    {
        var text = "Don't stop 123 — سلام\u200cدنیا\t\t🎉!!  end ";
        Assert.Equal(text, string.Concat(PreTokenizer.Gpt2.Split(text)));
    }
}

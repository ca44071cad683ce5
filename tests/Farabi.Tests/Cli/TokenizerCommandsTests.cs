using System.CommandLine;
using System.Text.Json;
using Farabi.Cli;
using Xunit;

namespace Farabi.Tests.Cli;

/// <summary>The `farabi tokenizer` contract that scripts rely on: JSON ids on stdout, exit code 2 and one line on bad input.</summary>
public class TokenizerCommandsTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => Farabi.Tests.Cli.CliRun.Run(args);

    [Fact]
    public void EncodePrintsOneJsonArray()
    {
        var (code, stdout, _) = Run("tokenizer", "encode", "--encoding", "gpt2", "--text", "hello world");
        Assert.Equal(0, code);
        Assert.Equal("[31373,995]", stdout.Trim());
        Assert.Equal([31373, 995], JsonSerializer.Deserialize<int[]>(stdout)!);
    }

    [Fact]
    public void EncodeLinesPrintsOneArrayPerLine()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "hello world\nhello\n");
        try
        {
            var (code, stdout, _) = Run("tokenizer", "encode", "-e", "gpt2", "--input", path, "--lines");
            Assert.Equal(0, code);
            Assert.Equal(["[31373,995]", "[31373]"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void DecodeRoundTripsEncode()
    {
        const string text = "سلام 😀 world";
        var ids = Run("tokenizer", "encode", "-e", "o200k_base", "--text", text).Out.Trim();
        var (code, stdout, _) = Run("tokenizer", "decode", "-e", "o200k_base", "--ids", ids);
        Assert.Equal(0, code);
        Assert.Equal(text, stdout);
    }

    [Fact]
    public void SpecialTokensFollowAllowSpecial()
    {
        var (code, _, stderr) = Run("tokenizer", "encode", "-e", "cl100k_base", "--text", "a<|endoftext|>");
        Assert.Equal(2, code);
        Assert.Contains("<|endoftext|>", stderr);
        Assert.Equal("[64,100257]", Run("tokenizer", "encode", "-e", "cl100k_base", "--text", "a<|endoftext|>", "--allow-special", "all").Out.Trim());
        Assert.Equal("[64,100257]", Run("tokenizer", "encode", "-e", "cl100k_base", "--text", "a<|endoftext|>", "--allow-special", "<|endoftext|>").Out.Trim());
        var asText = Run("tokenizer", "encode", "-e", "cl100k_base", "--text", "a<|endoftext|>", "--specials-as-text");
        Assert.Equal(0, asText.Code);
        Assert.DoesNotContain("100257", asText.Out);
    }

    [Fact]
    public void EncodingMayBeAPath()
    {
        var dir = Directory.CreateTempSubdirectory("farabi-cli-").FullName;
        try
        {
            Farabi.Tokenizers.Data.Encodings.Get("gpt2").Save(dir);
            var (code, stdout, _) = Run("tokenizer", "encode", "-e", dir, "--text", "hello world");
            Assert.Equal(0, code);
            Assert.Equal("[31373,995]", stdout.Trim());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("tokenizer", "encode", "-e", "nope", "--text", "x")]
    [InlineData("tokenizer", "encode", "-e", "gpt2")]
    [InlineData("tokenizer", "encode", "-e", "gpt2", "--input", "/no/such/file.txt")]
    [InlineData("tokenizer", "encode", "-e", "/no/such/vocab.tiktoken", "--text", "x")]
    [InlineData("tokenizer", "encode", "-e", "gpt2", "--text", "x", "--allow-special", "<|nope|>")]
    [InlineData("tokenizer", "decode", "-e", "gpt2", "--ids", "[1,2")]
    [InlineData("tokenizer", "decode", "-e", "gpt2", "--ids", "{\"a\":1}")]
    [InlineData("tokenizer", "decode", "-e", "gpt2", "--ids", "[99999999]")]
    [InlineData("tokenizer", "decode", "-e", "cl100k_base", "--ids", "[100256]")]
    public void BadInputExitsWithCode2AndOneLine(params string[] args)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("farabi: ", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}

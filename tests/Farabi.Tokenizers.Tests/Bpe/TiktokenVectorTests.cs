using System.Text.Json;
using Farabi.Testing;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Data;
using Xunit;

namespace Farabi.Tokenizers.Tests.Bpe;

/// <summary>Ids must equal tiktoken's on every reference line (emoji, Persian, whitespace runs, numbers, specials).</summary>
public class TiktokenVectorTests
{
    public static TheoryData<string> EncodingNames => new() { "gpt2", "cl100k_base", "o200k_base" };

    [Theory]
    [MemberData(nameof(EncodingNames))]
    public void EveryReferenceLineEncodesToTiktokensIds(string encoding)
    {
        var path = SharedData.Require("tokenizer/vectors/tiktoken-vectors.jsonl");
        var tokenizer = Encodings.Get(encoding);
        var checkedLines = 0;
        var failures = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.GetProperty("encoding").GetString() != encoding) continue;
            var text = root.GetProperty("text").GetString()!;
            var expected = root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = tokenizer.Encode(text, SpecialTokenPolicy.AllowAll);
            if (!expected.SequenceEqual(actual))
                failures.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
            if (tokenizer.Decode(actual) != text) failures.Add($"{JsonSerializer.Serialize(text)}: decode gives {JsonSerializer.Serialize(tokenizer.Decode(actual))}");
            var count = tokenizer.CountTokens(text, SpecialTokenPolicy.AllowAll);
            if (count != expected.Length) failures.Add($"{JsonSerializer.Serialize(text)}: counted {count}, expected {expected.Length}");
            checkedLines++;
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {checkedLines} lines differ:\n" + string.Join("\n", failures));
        Assert.True(checkedLines > 50, $"only {checkedLines} lines for {encoding}");
    }
}

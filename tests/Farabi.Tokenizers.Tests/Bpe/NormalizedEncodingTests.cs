using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Bpe.Training;
using Farabi.Tokenizers.Formats;
using Farabi.Tokenizers.Normalizers;
using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.Bpe;

public class NormalizedEncodingTests
{
    static BpeTokenizer TrainPersian()
    {
        var text = string.Concat(Enumerable.Repeat("کتاب‌ها را می‌خوانیم و یک کتاب دیگر هم داریم. <|endoftext|>\n", 40));
        var result = new BpeTrainer(new BpeTrainerOptions
        {
            VocabSize = 320, SpecialTokens = ["<|endoftext|>"], PreTokenizer = PreTokenizer.Persian, Normalizer = Normalizer.Persian,
        }).Train(text);
        var dir = Path.Combine(Path.GetTempPath(), $"farabi-norm-{Guid.NewGuid():N}");
        try
        {
            result.Save(dir);
            return VocabularyFolder.Load(dir);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ArabicLettersEncodeLikeTheirPersianFormsWhenTheVocabularyWasTrainedNormalized()
    {
        var tokenizer = TrainPersian();
        Assert.Equal("persian", tokenizer.NormalizerName);
        // Arabic kaf (ك) and yeh (ي) become Persian ک and ی before pre-tokenization, as in training.
        Assert.Equal(tokenizer.Encode("یک کتاب"), tokenizer.Encode("يك كتاب"));
        Assert.Equal("یک کتاب", tokenizer.Decode(tokenizer.Encode("يك كتاب")));
    }

    [Fact]
    public void SpecialTokensStillSplitNormalizedSegments()
    {
        var tokenizer = TrainPersian();
        var ids = tokenizer.Encode("كتاب<|endoftext|>كتاب", SpecialTokenPolicy.AllowAll);
        var eot = tokenizer.SpecialTokens["<|endoftext|>"];
        Assert.Single(ids, eot);
        var at = Array.IndexOf(ids, eot);
        Assert.Equal(ids[..at], ids[(at + 1)..]);
    }
}

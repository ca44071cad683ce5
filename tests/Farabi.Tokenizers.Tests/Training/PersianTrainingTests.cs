using System.Text;
using Farabi.Testing;
using Farabi.Tokenizers.Bpe.Training;
using Farabi.Tokenizers.Normalizers;
using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.Training;

public class PersianTrainingTests
{
    [Fact]
    public void APersianVocabularyLearnsZwnjWordsAndNoArabicLetterForms()
    {
        var path = SharedData.Require("text/fa/fa_news_sports_health.txt");
        using var reader = new StreamReader(path);
        var buffer = new char[600_000];
        var text = new string(buffer, 0, reader.ReadBlock(buffer));
        Assert.Contains('\u064A', text); // the news file writes Arabic yeh: the normalizer has work to do

        var r = new BpeTrainer(new BpeTrainerOptions
        {
            VocabSize = 3000,
            SpecialTokens = ["<|endoftext|>"],
            PreTokenizer = PreTokenizer.Persian,
            Normalizer = Normalizer.Persian,
        }).Train(text, TestContext.Current.CancellationToken);

        var learned = r.Tokens.Skip(256).Take(r.Merges.Count).Select(t => Encoding.UTF8.GetString(t)).ToList();
        Assert.Equal(3000, r.VocabSize);
        Assert.DoesNotContain(learned, t => t.Contains('\u064A') || t.Contains('\u0643'));
        // ZWNJ stays inside words, so the prefix «می‌» and plural «‌ها» become tokens.
        Assert.Contains(learned, t => t.Contains("می\u200C"));
        Assert.Contains(learned, t => t.Contains("\u200Cها"));
        // A space only ever leads a token (GPT-2 style), it never ends or splits one.
        Assert.DoesNotContain(learned, t => t.TrimStart(' ').Contains(' '));
    }
}

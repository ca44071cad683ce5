using System.Text;
using Farabi.Cli.Tokenizer;
using Farabi.Data;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Bpe.Training;
using Farabi.Tokenizers.Formats;
using Farabi.Tokenizers.Normalizers;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Cli;

/// <summary>The stages of <c>farabi demo</c>, each a short tour of one capability on built-in data.</summary>
static class DemoStages
{
    /// <summary>
    /// Byte-level BPE: train an English and a Persian vocabulary on built-in text, save and reload them,
    /// round-trip a held-out sample, and compare compression with GPT-2's vocabulary.
    /// </summary>
    public static DemoCommand.StageResult Tokenizer(RunFolder run, int seed, TextWriter stdout)
    {
        const string eot = "<|endoftext|>";
        var english = BuiltInText.Generate(400_000, seed, $"\n{eot}\n");
        var englishHeldOut = BuiltInText.Generate(40_000, seed + 1000);
        var persian = BuiltInText.GeneratePersian(200_000, seed);
        var persianHeldOut = BuiltInText.GeneratePersian(20_000, seed + 1000);

        var en = TrainAndReload(run, "tokenizer-en", english, new BpeTrainerOptions { VocabSize = 2_000, SpecialTokens = [eot] });
        var fa = TrainAndReload(run, "tokenizer-fa", persian, new BpeTrainerOptions
        {
            VocabSize = 2_000, SpecialTokens = [eot], PreTokenizer = PreTokenizer.Persian, Normalizer = Normalizer.Persian,
        });

        var sample = englishHeldOut[..Math.Min(200, englishHeldOut.Length)];
        var ids = en.Encode(sample);
        var roundTrip = en.Decode(ids) == sample;
        if (!roundTrip) throw new InvalidOperationException("the trained vocabulary did not round-trip its sample; this is a bug.");
        stdout.WriteLine($"sample: {sample.ReplaceLineEndings(" ")[..Math.Min(80, sample.Length)]}...");
        stdout.WriteLine($"ids:    [{string.Join(",", ids.Take(20))}, ...] ({ids.Length} tokens for {Encoding.UTF8.GetByteCount(sample)} bytes)");

        var gpt2 = TokenizerCommands.Resolve("gpt2");
        var table = new TextTable("text", "tokenizer", "vocab", "bytes/token", "tokens/word");
        foreach (var (label, text, tokenizer) in new[]
                 {
                     ("English (held out)", englishHeldOut, en), ("English (held out)", englishHeldOut, gpt2),
                     ("Persian (held out)", persianHeldOut, fa), ("Persian (held out)", persianHeldOut, gpt2),
                 })
        {
            var s = TrainAndStats.Measure(tokenizer, [text]);
            table.Add(label, tokenizer == gpt2 ? "gpt2" : $"trained here ({tokenizer.Name})", s.VocabSize, s.BytesPerToken, s.TokensPerWord);
        }
        stdout.Write(table.ToText());
        var faStats = TrainAndStats.Measure(fa, [persianHeldOut]);
        var gptFaStats = TrainAndStats.Measure(gpt2, [persianHeldOut]);
        var md = new StringBuilder()
            .AppendLine("Two byte-level BPE vocabularies of 2,000 tokens trained on built-in text (English stories; Persian sentences")
            .AppendLine("with the Persian normalizer and ZWNJ-aware pre-tokenizer), saved as `vocab.json` + `merges.txt` +")
            .AppendLine("`farabi_tokenizer.json`, reloaded, and measured on held-out text against GPT-2's 50,257-token vocabulary.")
            .AppendLine()
            .Append(table.ToMarkdown())
            .AppendLine()
            .AppendLine($"Round trip of a held-out sample: {(roundTrip ? "exact" : "FAILED")}.");
        return new DemoCommand.StageResult(
            $"Persian fertility {faStats.TokensPerWord:F2} tokens/word (GPT-2 {gptFaStats.TokensPerWord:F2})", md.ToString());
    }

    static BpeTokenizer TrainAndReload(RunFolder run, string name, string text, BpeTrainerOptions options)
    {
        var result = TrainAndStats.TrainWithProgress(TrainingCorpus.FromText(text), options, CancellationToken.None);
        var dir = run.File(name);
        result.Save(dir);
        return VocabularyFolder.Load(dir);
    }
}

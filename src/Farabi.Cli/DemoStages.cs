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

    /// <summary>
    /// Language model: <c>farabi lm train</c> on the built-in stories (char-level GPT-2, 4 layers, 128 wide, about a
    /// minute on two cores), then <c>farabi lm sample</c> from its best checkpoint.
    /// </summary>
    public static DemoCommand.StageResult LanguageModel(RunFolder run, int seed, TextWriter stdout)
    {
        var dir = run.File("lm");
        var code = RunVerb(stdout, "lm", "train", "--out", dir, "--max-steps", "700", "--eval-interval", "100", "--seed", seed.ToString());
        if (code != 0) throw new InvalidOperationException($"lm train failed with exit code {code}.");
        var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
        var sample = new StringWriter();
        code = RunVerb(sample, "lm", "sample", "--model", dir, "--prompt", "Once upon a time", "--max-new-tokens", "300",
            "--temperature", "0.8", "--top-k", "20", "--seed", seed.ToString());
        if (code != 0) throw new InvalidOperationException($"lm sample failed with exit code {code}.");
        var text = sample.ToString().Trim();
        stdout.WriteLine(text);
        var val = summary["final_val_loss"]?.GetValue<double>() ?? double.NaN;
        var tps = summary["tokens_per_second"]?.GetValue<double>() ?? double.NaN;
        var md = new StringBuilder()
            .AppendLine($"A {summary["parameters"]}-parameter char-level GPT-2 trained for {summary["steps"]} steps on the built-in stories")
            .AppendLine($"(`lm/`, report in `lm/report.md`): validation loss {val:F3} nats/char at {tps:F0} tokens/s. A sample at temperature 0.8:")
            .AppendLine()
            .AppendLine("```")
            .AppendLine(text)
            .AppendLine("```");
        return new DemoCommand.StageResult($"val loss {val:F3} nats/char, {tps:F0} tokens/s", md.ToString());
    }

    /// <summary>Runs another verb of this tool in-process, its standard output going to <paramref name="stdout"/>.</summary>
    static int RunVerb(TextWriter stdout, params string[] args)
    {
        var root = new System.CommandLine.RootCommand();
        foreach (var group in Verbs.All()) root.Subcommands.Add(group);
        return CliApp.Run(root, args, stdout);
    }

    static BpeTokenizer TrainAndReload(RunFolder run, string name, string text, BpeTrainerOptions options)
    {
        var result = TrainAndStats.TrainWithProgress(TrainingCorpus.FromText(text), options, CancellationToken.None);
        var dir = run.File(name);
        result.Save(dir);
        return VocabularyFolder.Load(dir);
    }
}

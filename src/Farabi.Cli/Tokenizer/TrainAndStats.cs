using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Bpe.Training;
using Farabi.Tokenizers.Normalizers;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Cli.Tokenizer;

/// <summary><c>farabi tokenizer train</c> and <c>farabi tokenizer stats</c>.</summary>
static class TrainAndStats
{
    public static Command Train()
    {
        var input = new Option<string[]>("--input", "-i") { Description = "Text files or folders (plain, .gz, or JSON lines with --field).", Required = true, AllowMultipleArgumentsPerToken = true };
        var field = new Option<string?>("--field") { Description = "Read JSON lines and take the text from this field of each object." };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size: 256 bytes + merges + special tokens.", DefaultValueFactory = _ => 32_000 };
        var specials = new Option<string[]>("--special") { Description = "Special tokens (repeatable).", DefaultValueFactory = _ => ["<|endoftext|>"], AllowMultipleArgumentsPerToken = true };
        var minFreq = new Option<int>("--min-frequency") { Description = "Never merge a pair seen fewer times than this.", DefaultValueFactory = _ => 2 };
        var pre = new Option<string>("--pre-tokenizer") { Description = "gpt2 | cl100k | o200k | persian.", DefaultValueFactory = _ => "gpt2" };
        var norm = new Option<string?>("--normalizer") { Description = "none | persian (or persian:options)." };
        var threads = new Option<int>("--threads") { Description = "Threads for counting words (merging is sequential).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var outDir = new Option<string>("--out", "-o") { Description = "Folder for vocab.json, merges.txt and farabi_tokenizer.json.", Required = true };
        var cmd = new Command("train", "Train a byte-level BPE vocabulary.") { input, field, vocab, specials, minFreq, pre, norm, threads, outDir };
        cmd.SetAction((parse, cancel) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var options = new BpeTrainerOptions
            {
                VocabSize = parse.GetValue(vocab),
                SpecialTokens = parse.GetValue(specials) ?? [],
                MinPairFrequency = parse.GetValue(minFreq),
                PreTokenizer = PreTokenizerByName(parse.GetValue(pre)!),
                Normalizer = Normalizer.FromName(parse.GetValue(norm) is "none" ? null : parse.GetValue(norm)),
                MaxDegreeOfParallelism = Math.Max(1, parse.GetValue(threads)),
            };
            var corpus = TrainingCorpus.FromPaths(parse.GetValue(input)!, parse.GetValue(field));
            var result = TrainWithProgress(corpus, options, cancel);
            var dir = parse.GetValue(outDir)!;
            result.Save(dir);
            stdout.Write(Summary(result).ToText());
            stdout.WriteLine($"saved: {Path.GetFullPath(dir)}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>Trains with a progress bar for each stage (counting in input bytes, merging in merges).</summary>
    internal static BpeTrainingResult TrainWithProgress(TrainingCorpus corpus, BpeTrainerOptions options, CancellationToken cancel, TextWriter? progressOut = null)
    {
        ProgressBar? bar = null;
        var stage = (BpeTrainingStage)(-1);
        var gate = new object();
        var trainer = new BpeTrainer(options with
        {
            Progress = p =>
            {
                lock (gate)
                {
                    if (p.Stage != stage)
                    {
                        bar?.Dispose();
                        stage = p.Stage;
                        bar = new ProgressBar(p.Stage == BpeTrainingStage.Counting ? "counting words" : "merging", Math.Max(1, p.Total), progressOut);
                    }
                    bar!.Report(p.Done, p.Stage == BpeTrainingStage.Counting ? "bytes" : "merges");
                }
            },
        });
        try { return trainer.Train(corpus, cancel); }
        finally { bar?.Dispose(); }
    }

    internal static TextTable Summary(BpeTrainingResult r)
    {
        var s = r.Statistics;
        var mergeSeconds = Math.Max(1e-9, s.MergingTime.TotalSeconds);
        return new TextTable("vocab", "merges", "words", "distinct words", "count s", "merge s", "merges/s")
            .Add(r.VocabSize, s.Merges, s.Pieces, s.DistinctWords, s.CountingTime.TotalSeconds, s.MergingTime.TotalSeconds, Math.Round(s.Merges / mergeSeconds));
    }

    /// <summary>A pre-tokenizer by its command-line name (the encoding names work too).</summary>
    internal static PreTokenizer PreTokenizerByName(string name) => name.Trim().ToLowerInvariant() switch
    {
        "cl100k" => PreTokenizer.Cl100k,
        "o200k" => PreTokenizer.O200k,
        var other => PreTokenizer.FromName(other),
    };

    public static Command Stats()
    {
        var encodings = new Option<string[]>("--encoding", "-e") { Description = "Encodings or vocabulary paths to compare (repeatable).", Required = true, AllowMultipleArgumentsPerToken = true };
        var input = new Option<string[]>("--input", "-i") { Description = "Text files or folders (plain, .gz, or JSON lines with --field).", Required = true, AllowMultipleArgumentsPerToken = true };
        var field = new Option<string?>("--field") { Description = "Read JSON lines and take the text from this field of each object." };
        var json = new Option<string?>("--json") { Description = "Also write the figures to this JSON file." };
        var cmd = new Command("stats", "Bytes per token and tokens per word (fertility) of encodings on a corpus.") { encodings, input, field, json };
        cmd.SetAction(parse =>
        {
            var corpus = TrainingCorpus.FromPaths(parse.GetValue(input)!, parse.GetValue(field));
            var texts = corpus.ReadTexts().ToList();
            var rows = parse.GetValue(encodings)!.Select(e => Measure(TokenizerCommands.Resolve(e), texts)).ToList();
            var table = new TextTable("encoding", "vocab", "tokens", "bytes/token", "chars/token", "tokens/word");
            foreach (var r in rows) table.Add(r.Encoding, r.VocabSize, r.Tokens, r.BytesPerToken, r.CharsPerToken, r.TokensPerWord);
            parse.InvocationConfiguration.Output.Write(table.ToText());
            if (parse.GetValue(json) is { } path)
                Farabi.Tokenizers.AtomicFile.WriteText(path, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }) + "\n");
            return 0;
        });
        return cmd;
    }

    /// <summary>Compression figures of one tokenizer on a corpus.</summary>
    internal sealed record TokenizerStats(string Encoding, int VocabSize, long Tokens, long Bytes, long Chars, long Words, double Seconds)
    {
        public double BytesPerToken => Tokens == 0 ? 0 : Bytes / (double)Tokens;
        public double CharsPerToken => Tokens == 0 ? 0 : Chars / (double)Tokens;
        /// <summary>Fertility: tokens per whitespace-separated word.</summary>
        public double TokensPerWord => Words == 0 ? 0 : Tokens / (double)Words;
    }

    /// <summary>Counts tokens (special tokens' text as ordinary text) over the texts, in parallel.</summary>
    internal static TokenizerStats Measure(BpeTokenizer tokenizer, IReadOnlyList<string> texts)
    {
        var clock = Stopwatch.StartNew();
        long tokens = 0, bytes = 0, chars = 0, words = 0;
        Parallel.ForEach(texts, text =>
        {
            var n = tokenizer.CountTokens(text, SpecialTokenPolicy.AsText);
            Interlocked.Add(ref tokens, n);
            Interlocked.Add(ref bytes, System.Text.Encoding.UTF8.GetByteCount(text));
            Interlocked.Add(ref chars, text.Length);
            Interlocked.Add(ref words, CountWords(text));
        });
        return new TokenizerStats(tokenizer.Name, tokenizer.VocabSize, tokens, bytes, chars, words, clock.Elapsed.TotalSeconds);
    }

    static long CountWords(string text)
    {
        long n = 0;
        var inWord = false;
        foreach (var c in text)
        {
            var space = char.IsWhiteSpace(c);
            if (!space && !inWord) n++;
            inWord = !space;
        }
        return n;
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Farabi.Testing;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Bpe.Training;
using Farabi.Tokenizers.PreTokenizers;
using Xunit;

namespace Farabi.Tokenizers.Tests.Training;

/// <summary>Merge-for-merge agreement with the reference trainer's output in shared/data/tokenizer/bpe-training.</summary>
public class BpeReferenceTests(ITestOutputHelper output)
{
    const string Folder = "tokenizer/bpe-training";
    static readonly BpeTrainerOptions ReferenceOptions = new()
    {
        VocabSize = 500,
        SpecialTokens = ["<|endoftext|>"],
        PreTokenizer = PreTokenizer.Gpt2,
    };

    static byte[] Decode(string byteLevel)
    {
        Assert.True(ByteLevel.TryDecode(byteLevel, out var bytes), $"'{byteLevel}' is not in GPT-2's byte-level form");
        return bytes;
    }

    [Fact]
    public void ReproducesTheReferenceMergesAndVocabularyExactly()
    {
        var corpus = SharedData.Require($"{Folder}/corpus.en");
        var expectedMerges = File.ReadAllLines(SharedData.Require($"{Folder}/train-bpe-reference-merges.txt"))
            .Where(l => l.Length > 0)
            .Select(l => { var parts = l.Split(' '); return (Decode(parts[0]), Decode(parts[1])); })
            .ToList();
        var expectedVocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(SharedData.Require($"{Folder}/train-bpe-reference-vocab.json")))!
            .Keys.Select(Decode).Select(Convert.ToHexString).ToHashSet();

        var result = new BpeTrainer(ReferenceOptions).Train(TrainingCorpus.FromPath(corpus), TestContext.Current.CancellationToken);

        var merges = result.Merges.Select(m => (result.Tokens[m.Left], result.Tokens[m.Right])).ToList();
        Assert.Equal(expectedMerges.Count, merges.Count);
        for (var k = 0; k < merges.Count; k++)
        {
            Assert.True(expectedMerges[k].Item1.AsSpan().SequenceEqual(merges[k].Item1) && expectedMerges[k].Item2.AsSpan().SequenceEqual(merges[k].Item2),
                $"merge {k}: expected '{ByteLevel.Encode(expectedMerges[k].Item1)} {ByteLevel.Encode(expectedMerges[k].Item2)}', got '{ByteLevel.Encode(merges[k].Item1)} {ByteLevel.Encode(merges[k].Item2)}'");
        }
        Assert.Equal(500, result.VocabSize);
        Assert.Equal(expectedVocab, result.Tokens.Select(Convert.ToHexString).ToHashSet());
        Assert.Equal(499, result.SpecialTokens["<|endoftext|>"]);
    }

    [Fact]
    public void TrainsTheReferenceCorpusFasterThanTheTextbookAlgorithmDoesAFractionOfIt()
    {
        var text = File.ReadAllText(SharedData.Require($"{Folder}/corpus.en"));
        var trainer = new BpeTrainer(ReferenceOptions);
        trainer.Train(text, TestContext.Current.CancellationToken); // warm-up: JIT and tiered compilation
        var best = TimeSpan.MaxValue;
        for (var run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            trainer.Train(text, TestContext.Current.CancellationToken);
            best = clock.Elapsed < best ? clock.Elapsed : best;
        }
        // The machine is shared, so compare with a peer timed in the same process: the textbook
        // trainer (recount every pair after each merge) doing only the first 20 of the 243 merges.
        var naiveClock = Stopwatch.StartNew();
        NaiveBpe.Train([text], 20, ["<|endoftext|>"], PreTokenizer.Gpt2);
        var naive = naiveClock.Elapsed;
        output.WriteLine($"corpus.en, vocab 500 (243 merges): best of 5 = {best.TotalMilliseconds:F1} ms; textbook trainer, 20 merges: {naive.TotalMilliseconds:F0} ms; reference trainer: 380 ms on a laptop");
        Assert.True(best < naive, $"243 merges took {best.TotalMilliseconds:F0} ms, the textbook trainer's first 20 took {naive.TotalMilliseconds:F0} ms");
    }
}

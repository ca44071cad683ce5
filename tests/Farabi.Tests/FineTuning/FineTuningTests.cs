using System.CommandLine;
using System.Text.Json.Nodes;
using Farabi.Cli;
using Farabi.Lora;
using Farabi.Research.FineTuning;
using Farabi.Tests.Models;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.FineTuning;

public class FineTuningTests
{
    /// <summary>A GPT-2 of one 16-wide block on a 300-token vocabulary, pretrained for two steps: enough to exercise every path.</summary>
    static PretrainedBase TinyBase(int width = 16, int layers = 1)
    {
        var spec = new PretrainSpec(VocabSize: 300, Width: width, Layers: layers, Heads: 2, Context: 24, Steps: 2, BatchSize: 4, Seed: 3);
        return spec.Build(PretrainSpec.BuiltInStories(8_000, 3), TinyModels.TempDir());
    }

    [Fact]
    public void CompareGivesOneRowPerMethodWithTrainableCountsOrderedHeadLoraFull()
    {
        using var pretrained = TinyBase();
        var train = ClassificationData.Synthetic(24, 1);
        var eval = ClassificationData.Synthetic(12, 2);
        var family = FineTuningMethod.Family();
        var results = FineTuningComparison.Run(pretrained, train, eval, family, steps: 2, batchSize: 4, seed: 5);

        Assert.Equal(["head", "lora_r1", "lora_r4", "lora_r16", "dora_r4", "full"], results.Select(r => r.Method));
        long T(string m) => results.Single(r => r.Method == m).TrainableParameters;
        var width = 16;
        Assert.Equal(2 * width, T("head")); // score: [2, width], no bias
        // (On a model this small, rank 16 over 300 tokens outgrows the model itself; at the real sizes it is a few percent.)
        Assert.True(T("head") < T("lora_r1") && T("lora_r1") < T("lora_r4") && T("lora_r4") < T("lora_r16") && T("lora_r4") < T("full"));
        Assert.True(T("dora_r4") < T("lora_r4"));
        // LoRA on every linear layer of a block (c_attn 16→48, attn c_proj 16→16, c_fc 16→64, mlp c_proj 64→16): r·(in+out)
        // each, on the token embedding (300 tokens × 16): r·(300+16), plus the head. DoRA leaves the embedding out and
        // adds one magnitude per output.
        Assert.Equal(4 * (64 + 32 + 80 + 80) + 4 * (300 + 16) + 2 * width, T("lora_r4"));
        Assert.Equal(4 * (64 + 32 + 80 + 80) + 48 + 16 + 64 + 16 + 2 * width, T("dora_r4"));
        var full = results.Single(r => r.Method == "full");
        Assert.Equal(full.TotalParameters, full.TrainableParameters);
        Assert.Equal(pretrained.Model.ParameterCount() + 2 * width, full.TotalParameters);
        Assert.All(results, r =>
        {
            Assert.InRange(r.Accuracy, 0, 1);
            Assert.True(r.StepMs > 0 && r.PeakMb > 0 && r.PeakAboveStartMb >= 0);
            Assert.Equal(r.TrainableParameters * 12 / 1048576.0, r.GradientOptimizerMb, 9); // gradient + two AdamW moments, fp32
        });
        // Each method runs at its own default rate, with alpha fixed across ranks.
        Assert.Equal(FineTuningMethod.DefaultLoraLearningRate, results.Single(r => r.Method == "lora_r16").LearningRate);
        Assert.Equal(FineTuningMethod.DefaultFullLearningRate, full.LearningRate);
        // The pretrained model itself is never touched: every method got its own copy.
        Assert.All(pretrained.Model.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void MethodNamesParseAndBadNamesAreRejected()
    {
        Assert.Equal(new FineTuningMethod("lora_r8", FineTuningKind.Lora, 8, FineTuningMethod.DefaultLoraLearningRate, AdaptEmbedding: true), FineTuningMethod.Parse("lora_r8"));
        Assert.Equal(FineTuningKind.Dora, FineTuningMethod.Parse("dora_r2").Kind);
        // LoRA adapts the token embedding unless -emb says not to; DoRA never does.
        Assert.False(FineTuningMethod.Parse("lora_r4-emb@1e-3").AdaptEmbedding);
        Assert.Equal(1e-3, FineTuningMethod.Parse("lora_r4-emb@1e-3").LearningRate);
        Assert.False(FineTuningMethod.Parse("dora_r4").AdaptEmbedding);
        Assert.Equal(FineTuningKind.LinearWeights, FineTuningMethod.Parse("linear").Kind);
        // The LoRA rate is about ten times full fine-tuning's (the adapters start at zero and move r directions).
        Assert.InRange(FineTuningMethod.DefaultLoraLearningRate / FineTuningMethod.DefaultFullLearningRate, 5, 20);
        // alpha is fixed, so the scale alpha / r falls as the rank grows.
        Assert.Equal(8.0, FineTuningMethod.Parse("lora_r1").Scaling);
        Assert.Equal(0.5, FineTuningMethod.Parse("lora_r16").Scaling);
        // A rate in the name overrides the default; the name keeps it, so sweep rows stay apart.
        var swept = FineTuningMethod.Parse("lora_r4@2e-3");
        Assert.Equal(("lora_r4@2e-3", FineTuningKind.Lora, 4, 2e-3), (swept.Name, swept.Kind, swept.Rank, swept.LearningRate));
        Assert.Equal(1e-4, FineTuningMethod.Parse("full@1e-4").LearningRate);
        Assert.Throws<ArgumentException>(() => FineTuningMethod.Parse("lora_r0"));
        Assert.Throws<ArgumentException>(() => FineTuningMethod.Parse("adapter"));
        Assert.Throws<ArgumentException>(() => FineTuningMethod.Parse("full@fast"));
        Assert.Throws<ArgumentException>(() => FineTuningMethod.Parse("head@-1"));
    }

    [Fact]
    public void CompareVerbWritesResultsJsonWithTheFieldNamesScriptsUse()
    {
        var dir = TinyModels.TempDir();
        var root = new RootCommand("test") { FinetuneCommands.Create() };
        var (o, e) = (new StringWriter(), new StringWriter());
        var code = CliApp.Run(root, ["finetune", "compare", "--pretrain-chars", "8000", "--vocab", "300", "--width", "16", "--layers", "1", "--heads", "2",
            "--context", "16", "--pretrain-steps", "2", "--steps", "2", "--batch", "4", "--train-count", "16", "--eval-count", "8",
            "--methods", "head", "lora_r1", "full", "--out", dir], o, e);
        Assert.True(code == 0, e.ToString());
        var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsArray();
        Assert.Equal(["head", "lora_r1", "full"], rows.Select(r => r!["method"]!.GetValue<string>()));
        foreach (var row in rows)
            foreach (var field in new[] { "method", "trainable_params", "total_params", "accuracy", "step_ms", "peak_mb" })
                Assert.NotNull(row![field]);
        Assert.True(File.Exists(Path.Combine(dir, "accuracy_vs_params.png")));
        Assert.Contains("| lora_r1 |", File.ReadAllText(Path.Combine(dir, "report.md")));
    }

    [Fact]
    public void CompareVerbRejectsAnUnknownMethodInOneSentence()
    {
        var root = new RootCommand("test") { FinetuneCommands.Create() };
        var (o, e) = (new StringWriter(), new StringWriter());
        var code = CliApp.Run(root, ["finetune", "compare", "--methods", "adapter"], o, e);
        Assert.Equal(2, code);
        Assert.Contains("'adapter'", e.ToString());
    }

    [Fact]
    public void GeneratedDataPipelineWritesSelfLabelledExamplesForBothPrompts()
    {
        using var large = TinyBase(width: 24);
        using var small = TinyBase();
        var train = ClassificationData.Synthetic(24, 1);
        var eval = ClassificationData.Synthetic(12, 2);
        var options = new GeneratedDataOptions(GeneratorSteps: 2, LabellerSteps: 2, StudentSteps: 2, BatchSize: 4, GeneratedCount: 8, MaxNewTokens: 6, Seed: 9);
        var result = GeneratedDataFineTuning.Run(large, small, train, eval, options);

        Assert.InRange(result.Examples.Count, 1, 8);
        Assert.Equal([0, 1], result.Examples.Select(x => x.PromptedLabel).Distinct().Order());
        Assert.All(result.Examples, x =>
        {
            Assert.False(string.IsNullOrWhiteSpace(x.Text));
            Assert.InRange(x.Label, 0, 1);
            Assert.InRange(x.Confidence, 0.5, 1.0); // the argmax of two classes
        });
        Assert.Equal(result.Examples.Count(x => x.Label == x.PromptedLabel) / (double)result.Examples.Count, result.PromptAgreement, 9);
        Assert.Equal("generated", result.OnGenerated.Method);
        Assert.Equal("real", result.OnReal.Method);
        Assert.Equal(result.OnGenerated.TrainableParameters, result.OnReal.TrainableParameters);
    }

    [Fact]
    public void LabellerGivesBothLabelsWhenItsHeadSeparatesTheTexts()
    {
        using var large = TinyBase();
        using var classifier = large.NewClassifier(2);
        // A head that reads one random direction of the features: texts fall on both sides of it.
        using (no_grad())
        {
            var direction = randn(new long[] { 1, 16 }, generator: new Generator(11));
            classifier.score.weight!.copy_(cat([direction, -direction]));
        }
        var texts = ClassificationData.Synthetic(40, 4).Select(x => x.Text).ToList();
        var labels = GeneratedDataFineTuning.Label(classifier, large, texts, batchSize: 7);
        Assert.Equal(texts.Count, labels.Count);
        Assert.Equal([0, 1], labels.Select(l => l.Label).Distinct().Order());
        // Batching does not change the labels.
        var one = GeneratedDataFineTuning.Label(classifier, large, texts.Take(5).ToList(), batchSize: 1);
        Assert.Equal(labels.Take(5).Select(l => l.Label), one.Select(l => l.Label));
    }

    [Fact]
    public void WarmupAndLinearDecayScheduleRisesThenFallsToAboveZero()
    {
        var o = new FineTuneOptions(Steps: 100, LearningRate: 1e-3).WithWarmupAndDecay();
        Assert.Equal(5, o.WarmupSteps);
        Assert.True(o.LearningRateAt(1) < o.LearningRateAt(5));
        Assert.Equal(1e-3, o.LearningRateAt(6), 12);
        Assert.True(o.LearningRateAt(50) < o.LearningRateAt(6) && o.LearningRateAt(100) > 0 && o.LearningRateAt(100) < o.LearningRateAt(99));
        Assert.Equal(1e-3, new FineTuneOptions(Steps: 100, LearningRate: 1e-3).LearningRateAt(100)); // constant unless asked
    }

    [Fact]
    public void SyntheticRuleLabelCountsSentimentWords()
    {
        Assert.Equal(1, Farabi.Data.SyntheticSentiment.RuleLabel("the film was good and great but dull"));
        Assert.Equal(0, Farabi.Data.SyntheticSentiment.RuleLabel("awful, boring plot. lovely music"));
        Assert.Null(Farabi.Data.SyntheticSentiment.RuleLabel("good bad film"));
        Assert.All(ClassificationData.Synthetic(50, 3), e => Assert.Equal(e.Label, Farabi.Data.SyntheticSentiment.RuleLabel(e.Text)));
    }

    [Fact]
    public void TsvReaderSkipsTheHeaderAndNamesTheBadLine()
    {
        var path = Path.Combine(TinyModels.TempDir(), "data.tsv");
        File.WriteAllText(path, "sentence\tlabel\ngood film \t1\nbad film\t0\n");
        var rows = ClassificationData.ReadTsv(path);
        Assert.Equal([new TextExample("good film", 1), new TextExample("bad film", 0)], rows);
        File.WriteAllText(path, "sentence\tlabel\ngood film\t1\nbad film\tneg\n");
        var error = Assert.Throws<FormatException>(() => ClassificationData.ReadTsv(path));
        Assert.Contains("line 3", error.Message);
    }
}

using Farabi.Lora;
using Farabi.Models;
using Farabi.Research.FineTuning;
using Xunit;

namespace Farabi.Tests.FineTuning;

/// <summary>Resident-memory measurements see the whole process: nothing else may allocate while they run.</summary>
[CollectionDefinition(nameof(ProcessMemoryMeasurements), DisableParallelization = true)]
public sealed class ProcessMemoryMeasurements;

[Collection(nameof(ProcessMemoryMeasurements))]
public class FineTuningMemoryTests
{
    [Fact]
    public void FullFineTuningAddsMoreMemoryThanTheHeadAloneByAboutItsOptimizerState()
    {
        if (!ProcessMemory.ResetPeak()) Assert.Skip("The peak resident size cannot be reset here (/proc/self/clear_refs), so per-method memory is not measured.");
        // A 16k-token vocabulary makes the embedding 2M values: full fine-tuning must hold a gradient and two AdamW
        // moments for it (about 25 MB), the head alone 3 x 2 x 128 values.
        var config = new Gpt2Config { VocabSize = 16384, NPositions = 16, NEmbd = 128, NLayer = 1, NHead = 2, ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0 };
        var random = new Random(1);
        var data = Enumerable.Range(0, 16).Select(i => new LabelledIds(Enumerable.Range(0, 8).Select(_ => random.Next(16384)).ToArray(), i % 2)).ToList();
        var options = new FineTuneOptions(Steps: 3, BatchSize: 4, LearningRate: 1e-3, EvalEvery: 0);
        FineTuningResult Measure(string method)
        {
            using var model = new SequenceClassificationModel(new Gpt2LMHeadModel(config, seed: 2), 2, padTokenId: 0);
            return FineTuningComparison.Train(model, FineTuningMethod.Parse(method), data, data.Take(4).ToList(), options);
        }
        Measure("head"); // warm-up: the first run pays for JIT and libtorch's lazy initialisation
        var head = Measure("head");
        var full = Measure("full");

        Assert.True(full.GradientOptimizerMb > 20, $"grad+opt {full.GradientOptimizerMb:F1} MB");
        Assert.True(head.GradientOptimizerMb < 0.01);
        // The measured growth sees the optimizer state: a broken window (no reset, wrong baseline) would show the same
        // figure for both, or nothing for full fine-tuning.
        Assert.True(full.PeakAboveStartMb > head.PeakAboveStartMb + 0.6 * full.GradientOptimizerMb,
            $"full +{full.PeakAboveStartMb:F1} MB, head +{head.PeakAboveStartMb:F1} MB, full grad+opt {full.GradientOptimizerMb:F1} MB");
        Assert.True(full.PeakMb >= full.PeakAboveStartMb);
    }

    [Fact]
    public void LoraTrainingStepsLeaveNoTensorsBehind()
    {
        // A per-step leak (a hook's tensor escaping its scope) would make memory grow with the number of steps.
        var config = new Gpt2Config { VocabSize = 300, NPositions = 16, NEmbd = 16, NLayer = 1, NHead = 2, ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0 };
        using var model = new SequenceClassificationModel(new Gpt2LMHeadModel(config, seed: 2), 2, padTokenId: 0);
        FineTuningComparison.Prepare(model, FineTuningMethod.Parse("lora_r4"), seed: 1);
        var random = new Random(1);
        var data = Enumerable.Range(0, 16).Select(i => new LabelledIds(Enumerable.Range(0, 6).Select(_ => random.Next(300)).ToArray(), i % 2)).ToList();
        using var outer = TorchSharp.torch.NewDisposeScope(); // whatever a step keeps alive lands here and is counted
        var live = new Dictionary<int, long>();
        foreach (var step in LoraFineTuner.TrainClassifier(model, data, [], new FineTuneOptions(Steps: 25, BatchSize: 4, LearningRate: 1e-3, EvalEvery: 0)))
            if (step.Step is 5 or 25) live[step.Step] = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.Equal(live[5], live[25]);
    }
}

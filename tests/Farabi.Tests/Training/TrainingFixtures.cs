using Farabi.Data;
using Farabi.Models;
using Farabi.Training;
using Farabi.Tests.Data;
using Xunit;

namespace Farabi.Tests.Training;

/// <summary>Tests that seed or read torch's global generator (dropout) must not run beside each other.</summary>
[CollectionDefinition(nameof(GlobalTorchRng), DisableParallelization = true)]
public sealed class GlobalTorchRng;

static class TrainingFixtures
{
    public static Gpt2Config Gpt2(int vocab, double dropout = 0) => new()
    {
        VocabSize = vocab, NPositions = 16, NEmbd = 24, NLayer = 2, NHead = 2,
        ResidPdrop = dropout, EmbdPdrop = dropout, AttnPdrop = dropout, BosTokenId = null, EosTokenId = null,
    };

    public static TrainerOptions Options(int steps = 10) => new()
    {
        MaxSteps = steps, BatchSize = 4, ContextLength = 16, LearningRate = 3e-3, MinLearningRate = 3e-4,
        WarmupSteps = 2, EvalInterval = 5, EvalIters = 2, EvalAtStart = false, Seed = 11,
    };

    public static (TokenFile Train, TokenFile Val) Data()
    {
        var files = TinyCorpus.Write(3000);
        return (TokenFile.Open(files.TrainPath), TokenFile.Open(files.ValPath!));
    }

    public static float[] Flatten(CausalLanguageModel model) =>
        model.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();
}

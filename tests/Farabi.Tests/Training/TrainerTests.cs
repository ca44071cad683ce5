using Farabi.Data;
using Farabi.Models;
using Farabi.Tests.Models;
using Farabi.Training;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Training;

[Collection(nameof(GlobalTorchRng))]
public sealed class TrainerTests
{
    [Fact]
    public void Loss_decreases_on_a_tiny_corpus()
    {
        var (train, val) = TrainingFixtures.Data();
        using (train)
        using (val)
        {
            using var model = TrainingFixtures.Gpt2(train.VocabSize).CreateModel(1);
            using var trainer = new Trainer(model, TrainingFixtures.Options(60) with { EvalInterval = 60, EvalIters = 4 }, train, val);
            var before = trainer.Evaluate();
            var summary = trainer.Run();
            Assert.Equal(60, summary.Steps);
            Assert.NotNull(summary.LastEval!.ValLoss);
            // Untrained: about ln(vocab); 60 steps on repetitive text must cut it well beyond evaluation noise (about 0.05).
            Assert.InRange(before.ValLoss!.Value, Math.Log(train.VocabSize) - 0.5, Math.Log(train.VocabSize) + 0.5);
            Assert.True(summary.LastEval.ValLoss < before.ValLoss - 0.5, $"val loss {before.ValLoss} -> {summary.LastEval.ValLoss}");
            Assert.True(summary.TokensPerSecond > 0 && summary.Mfu > 0);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void Training_ten_steps_equals_five_then_resume_five(double dropout)
    {
        var (train, val) = TrainingFixtures.Data();
        using (train)
        using (val)
        {
            var options = TrainingFixtures.Options(10) with { LrDecaySteps = 10 }; // fixed, or the 5-step half would decay over 5 steps
            var config = TrainingFixtures.Gpt2(train.VocabSize, dropout);

            using var straight = config.CreateModel(5);
            using (var t = new Trainer(straight, options, train, val)) t.Run();

            var dir = TinyModels.TempDir();
            using (var first = config.CreateModel(5))
            using (var t = new Trainer(first, options with { MaxSteps = 5 }, train, val))
            {
                t.Run(dir);
                Assert.Equal(5, t.Step);
            }
            // Disturb the global generator, as anything else in the process might between the two halves.
            manual_seed(999);
            rand(100).Dispose();
            using var resumed = Trainer.Resume(Path.Combine(dir, Trainer.LatestName), train, val, options);
            Assert.Equal(5, resumed.Step);
            resumed.Run();
            Assert.Equal(10, resumed.Step);

            var a = TrainingFixtures.Flatten(straight);
            var b = TrainingFixtures.Flatten(resumed.Model);
            Assert.Equal(a.Length, b.Length);
            var maxDiff = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(maxDiff <= 1e-6, $"resumed parameters differ by {maxDiff}");
            resumed.Model.Dispose();
        }
    }

    [Fact]
    public void Accumulating_two_batches_of_b_gives_the_gradient_of_one_batch_of_2b()
    {
        var (train, val) = TrainingFixtures.Data();
        using (train)
        using (val)
        {
            var config = TrainingFixtures.Gpt2(train.VocabSize);
            using var m1 = config.CreateModel(2);
            using var m2 = config.CreateModel(2);
            using var big = new Trainer(m1, TrainingFixtures.Options() with { BatchSize = 8, GradientAccumulationSteps = 1 }, train, val);
            using var accumulated = new Trainer(m2, TrainingFixtures.Options() with { BatchSize = 4, GradientAccumulationSteps = 2 }, train, val);
            var l1 = big.AccumulateGradients();
            var l2 = accumulated.AccumulateGradients();
            Assert.Equal(l1, l2, 4);
            foreach (var (p, q) in m1.parameters().Zip(m2.parameters()))
                Assert.True(allclose(p.grad!, q.grad!, rtol: 1e-4, atol: 1e-5), "accumulated gradient differs from the large-batch gradient");
        }
    }

    [Fact]
    public void Checkpoints_are_hf_model_folders_with_training_state()
    {
        var (train, val) = TrainingFixtures.Data();
        using (train)
        using (val)
        {
            using var model = TrainingFixtures.Gpt2(train.VocabSize).CreateModel(3);
            using var trainer = new Trainer(model, TrainingFixtures.Options(5) with { EvalInterval = 5 }, train, val);
            var root = TinyModels.TempDir();
            trainer.Run(root);
            var best = Path.Combine(root, Trainer.BestName);
            foreach (var f in new[] { "model.safetensors", "config.json", TrainingCheckpoint.OptimizerFileName, TrainingCheckpoint.StateFileName, TrainingCheckpoint.TokenizerFileName })
                Assert.True(File.Exists(Path.Combine(best, f)), f);
            Assert.Empty(Directory.GetDirectories(root, ".*")); // no staging folders left behind
            using var loaded = CausalLanguageModel.Load(best);
            Assert.Equal(TrainingFixtures.Flatten(model), TrainingFixtures.Flatten(loaded));
        }
    }

    [Fact]
    public void A_corrupt_checkpoint_is_a_clear_error()
    {
        var (train, val) = TrainingFixtures.Data();
        using (train)
        using (val)
        {
            using var model = TrainingFixtures.Gpt2(train.VocabSize).CreateModel(3);
            var dir = Path.Combine(TinyModels.TempDir(), "ckpt");
            using (var trainer = new Trainer(model, TrainingFixtures.Options(5), train, val)) trainer.SaveCheckpoint(dir);

            var optimizer = Path.Combine(dir, TrainingCheckpoint.OptimizerFileName);
            var bytes = File.ReadAllBytes(optimizer);
            File.WriteAllBytes(optimizer, bytes[..(bytes.Length / 2)]);
            var e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(dir, train, val));
            Assert.Contains(TrainingCheckpoint.OptimizerFileName, e.Message);
            File.WriteAllBytes(optimizer, bytes);

            var state = Path.Combine(dir, TrainingCheckpoint.StateFileName);
            var json = File.ReadAllText(state);
            File.WriteAllText(state, json[..(json.Length / 2)]);
            e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(dir, train, val));
            Assert.Contains(TrainingCheckpoint.StateFileName, e.Message);
            File.WriteAllText(state, json.Replace("\"step\"", "\"stp\""));
            e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(dir, train, val));
            Assert.Contains("'step'", e.Message);

            Assert.Throws<DirectoryNotFoundException>(() => Trainer.Resume(Path.Combine(dir, "nope"), train, val));
        }
    }
}

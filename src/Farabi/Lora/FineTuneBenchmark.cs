using System.Diagnostics;
using Farabi.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Lora;

/// <summary>What one fine-tuning benchmark run measured.</summary>
/// <param name="Method">full, lora or dora.</param>
/// <param name="TrainableParameters">Values the optimizer updates.</param>
/// <param name="TotalParameters">All values of the model, adapters included.</param>
/// <param name="StepMs">Wall time of each timed step (forward, backward, AdamW update), warm-up excluded.</param>
/// <param name="FirstLoss">The loss of the first step.</param>
/// <param name="LastLoss">The loss of the last step (it should be lower: the steps train).</param>
public sealed record FineTuneBenchmarkResult(string Method, long TrainableParameters, long TotalParameters, double[] StepMs, double FirstLoss, double LastLoss)
{
    /// <summary>The median step time, robust to the noise of a shared machine.</summary>
    public double MedianStepMs => StepMs.Order().ElementAt(StepMs.Length / 2);
}

/// <summary>
/// Times language-model fine-tuning steps of a GPT-2-shaped model with every weight trained (full) or with
/// LoRA/DoRA adapters only, on random tokens: the comparison of step time and memory the LoRA paper makes
/// (Hu et al. 2021, section 4.2: fewer gradients and optimizer states).
/// </summary>
public static class FineTuneBenchmark
{
    /// <summary>A GPT-2-shaped model of about 20M parameters (384 wide, 8 blocks, 16384 tokens).</summary>
    public static Gpt2Config Model20M => new()
    {
        VocabSize = 16384, NPositions = 256, NEmbd = 384, NLayer = 8, NHead = 6,
        ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0,
    };

    /// <summary>
    /// Runs <paramref name="warmup"/> + <paramref name="steps"/> AdamW steps of <paramref name="method"/>
    /// (<c>full</c>, <c>lora</c> or <c>dora</c>, the adapters of rank <paramref name="rank"/> on
    /// <paramref name="targets"/>) on batches of <paramref name="batch"/> × <paramref name="sequence"/> random tokens.
    /// </summary>
    public static FineTuneBenchmarkResult Run(string method, Gpt2Config config, int steps, int batch, int sequence,
        int rank = 8, string[]? targets = null, int warmup = 1, long seed = 1337, Action<int, double>? progress = null)
    {
        if (method is not ("full" or "lora" or "dora")) throw new ArgumentException($"Method '{method}' is not one of full, lora, dora.");
        if (steps < 1 || batch < 1 || sequence < 2) throw new ArgumentException("steps and batch must be at least 1 and the sequence at least 2 tokens.");
        if (sequence + 1 > config.NPositions) throw new ArgumentException($"A sequence of {sequence} tokens needs n_positions > {sequence}; the model has {config.NPositions}.");
        using var model = new Gpt2LMHeadModel(config, seed);
        model.train();
        if (method != "full")
            LoraModel.Inject(model, new LoraConfig { R = rank, LoraAlpha = 2 * rank, TargetModules = targets ?? ["c_attn"], UseDora = method == "dora" }, seed: seed);
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        var total = model.parameters().Sum(p => p.numel());
        using var optimizer = optim.AdamW(trainable, lr: 1e-3);
        using var generator = new Generator((ulong)seed, CPU);
        // One fixed batch: the measurement is the step, and a loss that falls shows the steps really train.
        using var tokens = randint(0, config.VocabSize, [batch, sequence + 1], dtype: ScalarType.Int64, generator: generator);
        using var x = tokens[.., ..^1].contiguous();
        using var y = tokens[.., 1..].contiguous();
        var times = new List<double>();
        double first = double.NaN, last = double.NaN;
        for (var i = 0; i < warmup + steps; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            optimizer.zero_grad();
            var logits = model.forward(x);
            var loss = F.cross_entropy(logits.view(-1, config.VocabSize), y.view(-1));
            loss.backward();
            optimizer.step();
            var value = loss.item<float>();
            clock.Stop();
            if (i == 0) first = value;
            last = value;
            if (i >= warmup) times.Add(clock.Elapsed.TotalMilliseconds);
            progress?.Invoke(i + 1, value);
        }
        return new FineTuneBenchmarkResult(method, trainable.Sum(p => p.numel()), total, [.. times], first, last);
    }
}

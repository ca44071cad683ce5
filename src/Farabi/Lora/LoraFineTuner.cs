using System.Diagnostics;
using Farabi.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Lora;

/// <summary>Settings of a compact fine-tuning run.</summary>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="BatchSize">Examples (or sequences) per step.</param>
/// <param name="LearningRate">AdamW learning rate (LoRA usually takes a larger one than full fine-tuning).</param>
/// <param name="WeightDecay">AdamW weight decay.</param>
/// <param name="Seed">Fixes batch order.</param>
/// <param name="EvalEvery">Steps between evaluations (0: only at the end).</param>
/// <param name="WarmupSteps">Steps over which the learning rate rises linearly to <paramref name="LearningRate"/> (0: none).</param>
/// <param name="LinearDecay">After warm-up, decay the learning rate linearly towards zero at the last step (Hugging Face
/// Trainer's default <c>linear</c> schedule); false keeps it constant.</param>
public sealed record FineTuneOptions(int Steps = 200, int BatchSize = 16, double LearningRate = 1e-3, double WeightDecay = 0.0, long Seed = 1337, int EvalEvery = 50,
    int WarmupSteps = 0, bool LinearDecay = false)
{
    /// <summary>
    /// The learning rate of step <paramref name="step"/> (1-based): <c>lr·step/(warmup+1)</c> during warm-up, then
    /// <c>lr·(steps − step + 1)/(steps − warmup)</c> with <see cref="LinearDecay"/> (the last step still moves), else <c>lr</c>.
    /// </summary>
    public double LearningRateAt(int step)
    {
        if (step <= WarmupSteps) return LearningRate * step / (WarmupSteps + 1);
        if (!LinearDecay || Steps <= WarmupSteps) return LearningRate;
        return LearningRate * Math.Max(1, Steps - step + 1) / (Steps - WarmupSteps);
    }

    /// <summary>
    /// The schedule the fine-tuning comparisons use: 5% linear warm-up (Adam's moment estimates are noisy in the first
    /// steps, and adapters at a high rate diverge there), then linear decay, so that the weights evaluated at the end are
    /// not those of a full-rate step.
    /// </summary>
    public FineTuneOptions WithWarmupAndDecay() => this with { WarmupSteps = Math.Max(1, Steps / 20), LinearDecay = true };
}

/// <summary>One reported step of a fine-tuning run.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="Loss">Training loss of this step.</param>
/// <param name="EvalAccuracy">Accuracy on the held-out set when evaluated at this step (classification), else null.</param>
/// <param name="EvalLoss">Loss on the held-out set when evaluated at this step, else null.</param>
/// <param name="StepMs">Wall time of the training step alone (batch, forward, backward, update; no evaluation).</param>
public sealed record FineTuneStep(int Step, double Loss, double? EvalAccuracy, double? EvalLoss, double StepMs);

/// <summary>A labelled example: token ids and a class index.</summary>
public sealed record LabelledIds(int[] Ids, int Label);

/// <summary>
/// A compact AdamW loop over the parameters that have <c>requires_grad</c>: after <see cref="LoraModel.Inject"/>
/// that is the adapter (and saved modules), without it the whole model (full fine-tuning), so one loop serves
/// the whole fine-tuning family. Each step runs in its own dispose scope.
/// </summary>
public static class LoraFineTuner
{
    /// <summary>
    /// Trains <paramref name="model"/> to classify <paramref name="train"/> (right-padded batches, cross-entropy on
    /// the last-token logits) and evaluates accuracy on <paramref name="eval"/>; yields every step.
    /// </summary>
    public static IEnumerable<FineTuneStep> TrainClassifier(SequenceClassificationModel model, IReadOnlyList<LabelledIds> train,
        IReadOnlyList<LabelledIds> eval, FineTuneOptions options)
    {
        if (train.Count == 0) throw new ArgumentException("The training set is empty.");
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        if (parameters.Count == 0) throw new ArgumentException("The model has no trainable parameters.");
        using var optimizer = optim.AdamW(parameters, lr: options.LearningRate, weight_decay: options.WeightDecay);
        var random = new Random((int)options.Seed);
        var order = Enumerable.Range(0, train.Count).ToArray();
        var cursor = order.Length;
        for (var step = 1; step <= options.Steps; step++)
        {
            model.train();
            var clock = Stopwatch.StartNew();
            SetLearningRate(optimizer, options.LearningRateAt(step));
            var batch = new List<LabelledIds>(options.BatchSize);
            while (batch.Count < Math.Min(options.BatchSize, train.Count))
            {
                if (cursor == order.Length) { random.Shuffle(order); cursor = 0; }
                batch.Add(train[order[cursor++]]);
            }
            double loss;
            using (var scope = NewDisposeScope())
            {
                var (ids, lengths, labels) = Collate(batch, model.PadTokenId, model.Body.ContextLength);
                optimizer.zero_grad();
                var l = F.cross_entropy(model.Forward(ids, lengths), labels);
                l.backward();
                optimizer.step();
                loss = l.item<float>();
            }
            var ms = clock.Elapsed.TotalMilliseconds;
            var evaluate = eval.Count > 0 && (step == options.Steps || (options.EvalEvery > 0 && step % options.EvalEvery == 0));
            if (evaluate)
            {
                var (accuracy, evalLoss) = Evaluate(model, eval, options.BatchSize);
                yield return new FineTuneStep(step, loss, accuracy, evalLoss, ms);
            }
            else yield return new FineTuneStep(step, loss, null, null, ms);
        }
    }

    static void SetLearningRate(TorchSharp.Modules.AdamW optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    /// <summary>Accuracy and mean cross-entropy of <paramref name="model"/> on <paramref name="examples"/> (eval mode, no gradients).</summary>
    public static (double Accuracy, double Loss) Evaluate(SequenceClassificationModel model, IReadOnlyList<LabelledIds> examples, int batchSize = 32)
    {
        if (examples.Count == 0) return (double.NaN, double.NaN);
        model.eval();
        using var _ = no_grad();
        long correct = 0;
        double lossSum = 0;
        for (var start = 0; start < examples.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = examples.Skip(start).Take(batchSize).ToList();
            var (ids, lengths, labels) = Collate(batch, model.PadTokenId, model.Body.ContextLength);
            var logits = model.Forward(ids, lengths);
            correct += logits.argmax(1).eq(labels).sum().item<long>();
            lossSum += F.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
        }
        return ((double)correct / examples.Count, lossSum / examples.Count);
    }

    /// <summary>Right-pads <paramref name="batch"/> with <paramref name="pad"/> (sequences cut to <paramref name="maxLength"/>).</summary>
    public static (Tensor Ids, Tensor Lengths, Tensor Labels) Collate(IReadOnlyList<LabelledIds> batch, int pad, int maxLength)
    {
        var t = Math.Max(1, Math.Min(maxLength, batch.Max(e => e.Ids.Length)));
        var ids = new long[batch.Count * t];
        Array.Fill(ids, pad);
        var lengths = new long[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var n = Math.Min(t, batch[i].Ids.Length);
            for (var j = 0; j < n; j++) ids[i * t + j] = batch[i].Ids[j];
            lengths[i] = Math.Max(1, n);
        }
        return (tensor(ids).view(batch.Count, t), tensor(lengths), tensor(batch.Select(e => (long)e.Label).ToArray()));
    }

    /// <summary>
    /// Trains <paramref name="model"/> on next-token prediction over windows of <paramref name="sequence"/> + 1
    /// tokens drawn at random from <paramref name="tokens"/>; yields every step (the held-out loss on
    /// <paramref name="evalTokens"/> at evaluation steps).
    /// </summary>
    public static IEnumerable<FineTuneStep> TrainLanguageModel(CausalLanguageModel model, int[] tokens, int[] evalTokens, int sequence, FineTuneOptions options)
    {
        sequence = Math.Min(sequence, model.ContextLength);
        if (tokens.Length < sequence + 1) throw new ArgumentException($"The text has {tokens.Length} tokens; a training window needs {sequence + 1}.");
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        if (parameters.Count == 0) throw new ArgumentException("The model has no trainable parameters.");
        using var optimizer = optim.AdamW(parameters, lr: options.LearningRate, weight_decay: options.WeightDecay);
        var random = new Random((int)options.Seed);
        for (var step = 1; step <= options.Steps; step++)
        {
            model.train();
            var clock = Stopwatch.StartNew();
            SetLearningRate(optimizer, options.LearningRateAt(step));
            double loss;
            using (var scope = NewDisposeScope())
            {
                var (x, y) = Windows(tokens, sequence, options.BatchSize, random);
                optimizer.zero_grad();
                var l = F.cross_entropy(model.forward(x).view(-1, model.VocabSize), y.view(-1));
                l.backward();
                optimizer.step();
                loss = l.item<float>();
            }
            var ms = clock.Elapsed.TotalMilliseconds;
            var evaluate = evalTokens.Length > sequence && (step == options.Steps || (options.EvalEvery > 0 && step % options.EvalEvery == 0));
            yield return new FineTuneStep(step, loss, null, evaluate ? LanguageModelLoss(model, evalTokens, sequence) : null, ms);
        }
    }

    /// <summary>Mean next-token loss of <paramref name="model"/> over consecutive windows of <paramref name="tokens"/>.</summary>
    public static double LanguageModelLoss(CausalLanguageModel model, int[] tokens, int sequence)
    {
        model.eval();
        using var _ = no_grad();
        double sum = 0;
        var count = 0;
        for (var start = 0; start + sequence + 1 <= tokens.Length && count < 64; start += sequence, count++)
        {
            using var scope = NewDisposeScope();
            var window = tensor(tokens.AsSpan(start, sequence + 1).ToArray().Select(v => (long)v).ToArray());
            var logits = model.forward(window[..^1].unsqueeze(0));
            sum += F.cross_entropy(logits.view(-1, model.VocabSize), window[1..]).item<float>();
        }
        return count == 0 ? double.NaN : sum / count;
    }

    static (Tensor X, Tensor Y) Windows(int[] tokens, int sequence, int batch, Random random)
    {
        var x = new long[batch * sequence];
        var y = new long[batch * sequence];
        for (var b = 0; b < batch; b++)
        {
            var start = random.Next(tokens.Length - sequence);
            for (var j = 0; j < sequence; j++)
            {
                x[b * sequence + j] = tokens[start + j];
                y[b * sequence + j] = tokens[start + j + 1];
            }
        }
        return (tensor(x).view(batch, sequence), tensor(y).view(batch, sequence));
    }
}

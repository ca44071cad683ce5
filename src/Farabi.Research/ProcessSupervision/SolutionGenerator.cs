using System.Text;
using Farabi.Generation;
using Farabi.Models;
using Farabi.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// Byte-level token ids for the arithmetic task: one id per UTF-8 byte (vocabulary 256). The task's text
/// is ASCII, so ids and characters line up and a checker's character offsets are token positions; no
/// vocabulary file has to travel with a model.
/// </summary>
public static class ByteTokens
{
    /// <summary>The vocabulary size (every byte value).</summary>
    public const int VocabSize = 256;

    /// <summary>The ids of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static long[] Encode(string text) => Encoding.UTF8.GetBytes(text).Select(b => (long)b).ToArray();

    /// <summary>The text of <paramref name="ids"/> (invalid UTF-8 becomes U+FFFD).</summary>
    public static string Decode(IEnumerable<long> ids) => Encoding.UTF8.GetString(ids.Select(i => (byte)i).ToArray());

    /// <summary>The token position of the character at <paramref name="charOffset"/> in <paramref name="text"/>.</summary>
    public static int Position(string text, int charOffset) => Encoding.UTF8.GetByteCount(text.AsSpan(0, charOffset));
}

/// <summary>The transformer family of the generator (and of the verifiers that start from it).</summary>
public enum GeneratorArchitecture
{
    /// <summary>LLaMA: rotary positions, RMSNorm, SwiGLU. Rotary (relative) positions let attention find "the
    /// number after the word 'has'" wherever it sits, so copying operands from the statement is learned in far fewer updates.</summary>
    Llama,
    /// <summary>GPT-2: a learned table of absolute positions, each of which must be trained separately.</summary>
    Gpt2,
}

/// <summary>Settings of the generator GPT and its training.</summary>
public sealed record SolutionGeneratorOptions
{
    /// <summary>The transformer family.</summary>
    public GeneratorArchitecture Architecture { get; init; } = GeneratorArchitecture.Llama;
    /// <summary>Transformer layers.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Model width.</summary>
    public int Width { get; init; } = 96;
    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Learned positions: the longest prompt + solution (bytes).</summary>
    public int ContextLength { get; init; } = 512;
    /// <summary>Optimizer updates.</summary>
    public int Steps { get; init; } = 1500;
    /// <summary>Problems per update.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Peak learning rate (warm-up then cosine decay to a tenth).</summary>
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Share of training solutions with one deliberate mistake carried forward, so the model learns to make realistic mistakes.</summary>
    public double CorruptShare { get; init; } = 0.2;
    /// <summary>
    /// Share of training documents that are arithmetic drill instead of problems: the calculation lines of
    /// fresh problems of the same task, one after another, with the loss on every byte (see
    /// <see cref="SolutionGenerator.DrillDocument"/>). A problem document spends most of its bytes on a statement
    /// that carries no loss; drill puts the same compute into the arithmetic facts, as the paper's generators
    /// were first fine-tuned on math text (MathMix, Lightman et al. 2023 §2.3). Off (0) by default: at 0.5 and equal
    /// updates the generator got far worse (greedy right on 1 of 20 unseen problems instead of 12), as drill lines begin
    /// with random operands and so teach the model not to copy them from the statement.
    /// </summary>
    public double DrillShare { get; init; }
    /// <summary>The problems trained on.</summary>
    public ArithmeticProblemOptions Problems { get; init; } = DefaultProblems;

    /// <summary>
    /// The built-in task at a difficulty this model size half-masters in a few thousand updates: 2–3
    /// calculations on one-digit amounts, no value above 99 (larger products are where a 2-layer byte model
    /// stays at chance), so sampled solutions are right often enough to select among and wrong at every step.
    /// </summary>
    public static ArithmeticProblemOptions DefaultProblems => new() { MinSteps = 2, MaxSteps = 3, Digits = 1, MaxValue = 99 };
    /// <summary>Seed of weights, problems and batches.</summary>
    public int Seed { get; init; }

    /// <summary>The config of the model (byte vocabulary, no dropout: the data is unlimited).</summary>
    public CausalLanguageModelConfig ModelConfig() => Architecture switch
    {
        GeneratorArchitecture.Gpt2 => new Gpt2Config
        {
            VocabSize = ByteTokens.VocabSize, NPositions = ContextLength, NEmbd = Width, NLayer = Layers, NHead = Heads,
            ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0, BosTokenId = null, EosTokenId = null,
        }.Validate(),
        // SwiGLU's three matrices of 8/3 the width hold as many weights as GPT-2's two of 4x.
        _ => new LlamaConfig
        {
            VocabSize = ByteTokens.VocabSize, HiddenSize = Width, IntermediateSize = (8 * Width / 3 + 7) / 8 * 8, NumHiddenLayers = Layers,
            NumAttentionHeads = Heads, NumKeyValueHeads = Heads, MaxPositionEmbeddings = ContextLength, RmsNormEps = 1e-5,
            BosTokenId = null, EosTokenId = null,
        }.Validate(),
    };
}

/// <summary>
/// The generator of "Let's Verify Step by Step" at toy scale: a byte-level GPT trained on fresh
/// problem + solution documents, with the loss only on the solution bytes (the statement is given at
/// sampling time, so predicting it is wasted capacity), and a share of solutions corrupted by
/// <see cref="SolutionCorruptor"/> so sampled mistakes look like real ones.
/// </summary>
public static class SolutionGenerator
{
    /// <summary>
    /// Trains a new generator, or goes on training <paramref name="init"/> (which is then returned; its size wins
    /// over the options' layers and width); <paramref name="onStep"/> gets (step, loss, learning rate) after each update.
    /// </summary>
    public static CausalLanguageModel Train(SolutionGeneratorOptions options, Action<int, double, double>? onStep = null, CausalLanguageModel? init = null)
    {
        var model = init ?? options.ModelConfig().CreateModel(options.Seed);
        var problems = new ArithmeticProblemGenerator(options.Problems, options.Seed);
        var corruptor = new SolutionCorruptor(options.Seed + 1);
        var coin = new Random(options.Seed + 2);
        var drillProblems = new ArithmeticProblemGenerator(options.Problems, options.Seed + 3);
        var schedule = new TrainerOptions
        {
            MaxSteps = options.Steps, LearningRate = options.LearningRate, MinLearningRate = options.LearningRate / 10,
            WarmupSteps = Math.Max(1, options.Steps / 20), WeightDecay = 0.1, Beta2 = 0.99,
        };
        using var optimizer = AdamW.ForModel(model, schedule);
        model.train();
        for (var step = 0; step < options.Steps; step++)
        {
            var batch = new List<(string Prompt, string Solution)>(options.BatchSize);
            for (var i = 0; i < options.BatchSize; i++)
            {
                if (coin.NextDouble() < options.DrillShare)
                {
                    batch.Add(("", DrillDocument(drillProblems, DrillBytes)));
                    continue;
                }
                var p = problems.Next();
                var solution = coin.NextDouble() < options.CorruptShare ? corruptor.Corrupt(p).Text : p.Solution;
                batch.Add((p.Prompt, solution));
            }
            var lr = LearningRateSchedule.At(step, schedule);
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            using var loss = SolutionLoss(model, batch);
            loss.backward();
            GradientClipping.ClipGlobalNorm(model.parameters(), 1.0);
            optimizer.Step(lr);
            onStep?.Invoke(step, loss.item<float>(), lr);
        }
        model.eval();
        return model;
    }

    /// <summary>The length a drill document grows to (bytes, about a problem document's length).</summary>
    public const int DrillBytes = 120;

    /// <summary>
    /// An arithmetic drill document: the calculation lines (answer lines left out) of problems drawn from
    /// <paramref name="problems"/>, one per line, until the text reaches <paramref name="minBytes"/> bytes. Every
    /// line is a right calculation of the task's own kind and size, with results carried into later lines as
    /// in a solution.
    /// </summary>
    public static string DrillDocument(ArithmeticProblemGenerator problems, int minBytes)
    {
        var text = new StringBuilder();
        while (text.Length < minBytes)
        {
            var solution = problems.Next().Solution;
            text.Append(solution, 0, solution.LastIndexOf(ArithmeticProblem.AnswerPrefix, StringComparison.Ordinal));
        }
        return text.ToString();
    }

    /// <summary>
    /// Mean next-byte cross-entropy over the solution bytes of <paramref name="batch"/> (prompt bytes and
    /// right padding are ignored). Documents longer than the context are cut at its end.
    /// </summary>
    public static Tensor SolutionLoss(CausalLanguageModel model, IReadOnlyList<(string Prompt, string Solution)> batch)
    {
        using var scope = NewDisposeScope();
        var docs = batch.Select(d => (Ids: ByteTokens.Encode(d.Prompt + d.Solution), PromptLength: ByteTokens.Encode(d.Prompt).Length)).ToArray();
        var length = Math.Min(docs.Max(d => d.Ids.Length), model.ContextLength + 1);
        var x = new long[batch.Count * (length - 1)];
        var y = Enumerable.Repeat(-100L, x.Length).ToArray();
        for (var b = 0; b < docs.Length; b++)
        {
            var ids = docs[b].Ids;
            for (var t = 0; t < length - 1 && t < ids.Length; t++)
            {
                x[b * (length - 1) + t] = ids[t];
                // Target ids[t+1] is a solution byte when t+1 >= the prompt's length.
                if (t + 1 < ids.Length && t + 1 >= docs[b].PromptLength) y[b * (length - 1) + t] = ids[t + 1];
            }
        }
        var logits = model.Forward(tensor(x, [batch.Count, length - 1]));
        return F.cross_entropy(logits.view(-1, logits.shape[^1]), tensor(y), ignore_index: -100).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The generator's own confidence in each step: for every solution to <paramref name="prompt"/>, per step
    /// (as <see cref="StepChecker"/> splits it, answer line included) the mean log-probability the model gives
    /// the step's bytes, its newline included. An untrained verifier: how much of "is this step right" the
    /// generator already knows. Solutions too long for the context get zeros.
    /// </summary>
    public static IReadOnlyList<double[]> StepLogProbabilities(CausalLanguageModel model, string prompt, IReadOnlyList<string> solutions, StepCheckReference reference)
    {
        var result = new double[solutions.Count][];
        var texts = solutions.Select(s => prompt + s).ToArray();
        var ids = texts.Select(ByteTokens.Encode).ToArray();
        var usable = Enumerable.Range(0, solutions.Count).Where(i => ids[i].Length <= model.ContextLength).ToArray();
        var checks = solutions.Select(s => StepChecker.Check(reference, s)).ToArray();
        foreach (var i in Enumerable.Range(0, solutions.Count).Except(usable)) result[i] = new double[checks[i].Steps.Count];
        if (usable.Length == 0) return result;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var length = usable.Max(i => ids[i].Length);
        var x = new long[usable.Length * length];
        for (var k = 0; k < usable.Length; k++) Array.Copy(ids[usable[k]], 0, x, k * length, ids[usable[k]].Length);
        // logp[k, t] = log P(token t+1 | tokens ..t) of row k.
        var logp = F.log_softmax(model.Forward(tensor(x, [usable.Length, length])), -1).to_type(ScalarType.Float64);
        for (var k = 0; k < usable.Length; k++)
        {
            var i = usable[k];
            var next = ids[i];
            var targets = new long[length];
            for (var t = 0; t + 1 < next.Length; t++) targets[t] = next[t + 1];
            var rowLogp = logp[k].gather(1, tensor(targets, [length, 1])).squeeze(-1).data<double>().ToArray();
            result[i] = checks[i].Steps.Select(step =>
            {
                var first = ByteTokens.Position(texts[i], prompt.Length + step.Start);
                var last = Math.Min(ByteTokens.Position(texts[i], prompt.Length + step.End), next.Length - 1);
                // Token t is predicted at t − 1.
                var values = Enumerable.Range(first, last - first + 1).Where(t => t >= 1).Select(t => rowLogp[t - 1]).ToArray();
                return values.Length == 0 ? 0.0 : values.Average();
            }).ToArray();
        }
        return result;
    }

    /// <summary>The longest line a sample may grow before it is cut (task steps are under 30 bytes).</summary>
    public const int MaxLineBytes = 40;

    /// <summary>
    /// Samples <paramref name="count"/> solutions to one prompt in one batch (the prompt is shared, so no
    /// padding is needed): each row stops after the newline that ends its <c>answer:</c> line, after a line longer
    /// than <see cref="MaxLineBytes"/>, or after <paramref name="maxNewTokens"/> bytes. The same <paramref name="seed"/> gives the same samples.
    /// </summary>
    public static IReadOnlyList<string> Sample(CausalLanguageModel model, string prompt, int count, double temperature, int maxNewTokens, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var promptIds = ByteTokens.Encode(prompt);
        maxNewTokens = Math.Min(maxNewTokens, model.ContextLength - promptIds.Length);
        if (maxNewTokens <= 0) throw new ArgumentException($"the prompt has {promptIds.Length} bytes, which fills the model's context of {model.ContextLength}.");
        var sampling = new SamplingOptions { Temperature = temperature };
        using var generator = new Generator((ulong)seed);
        using var cache = model.NewCache(promptIds.Length + maxNewTokens);
        using var noGrad = no_grad();
        var outputs = Enumerable.Range(0, count).Select(_ => new List<long>()).ToArray();
        var lineStart = new int[count];
        var done = new bool[count];
        using var scope = NewDisposeScope();
        // The prompt is shared: run it once as a batch of one and copy its keys and values to every row,
        // instead of running the same prompt `count` times (it is most of the tokens a solution sees).
        var lastLogits = model.Head(model.Hidden(tensor(promptIds, [1, promptIds.Length]), cache).select(1, -1))
            .expand(count, model.VocabSize).MoveToOuterDisposeScope();
        cache.ExpandBatch(count);
        for (var t = 0; t < maxNewTokens && done.Any(d => !d); t++)
        {
            using var stepScope = NewDisposeScope();
            var next = Sampler.Sample(lastLogits, sampling, generator).data<long>().ToArray();
            for (var b = 0; b < count; b++)
            {
                if (done[b]) continue;
                outputs[b].Add(next[b]);
                if (next[b] != '\n')
                {
                    // A line this long is no step of the task: the row is already malformed, and letting it run
                    // to the length limit would keep the whole batch decoding for nothing.
                    if (outputs[b].Count - lineStart[b] > MaxLineBytes) done[b] = true;
                    continue;
                }
                var line = ByteTokens.Decode(outputs[b].Skip(lineStart[b]));
                if (line.StartsWith("answer:", StringComparison.Ordinal)) done[b] = true;
                lineStart[b] = outputs[b].Count;
            }
            if (!done.Any(d => !d) || t + 1 == maxNewTokens) break;
            lastLogits = model.Head(model.Hidden(tensor(next, [count, 1]), cache).select(1, -1)).MoveToOuterDisposeScope();
        }
        return outputs.Select(o => ByteTokens.Decode(o)).ToArray();
    }
}

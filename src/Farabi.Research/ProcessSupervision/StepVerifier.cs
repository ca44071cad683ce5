using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.IO;
using Farabi.Models;
using Farabi.Tokenizers;
using Farabi.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Research.ProcessSupervision;

/// <summary>What a verifier is trained on and scores.</summary>
public enum VerifierKind
{
    /// <summary>Process reward model: one probability per step, read at the step's newline.</summary>
    Process,
    /// <summary>Outcome reward model: one probability per solution, read at its final token.</summary>
    Outcome,
}

/// <summary>
/// One training example of a verifier: the byte ids of prompt + solution, the token positions the head
/// reads, a 0/1 target per position, and which targets count. For a PRM the positions are the steps'
/// newlines (<see cref="CheckedStep.End"/>), targets the step labels (+1 → 1, −1 → 0) and the mask
/// <see cref="SolutionCheck.LabelMask"/> (steps after the first error are neutral); for an ORM there is one
/// position, the last token, with target <see cref="SolutionCheck.IsCorrect"/>.
/// </summary>
public sealed record VerifierExample(long[] Ids, long[] Positions, float[] Targets, bool[] Mask)
{
    /// <summary>The example of <paramref name="solution"/> to <paramref name="prompt"/> as <paramref name="kind"/> sees it.</summary>
    public static VerifierExample From(VerifierKind kind, string prompt, string solution, SolutionCheck check)
    {
        var ids = ByteTokens.Encode(prompt + solution);
        if (kind == VerifierKind.Outcome)
            return new VerifierExample(ids, [ids.Length - 1], [check.IsCorrect ? 1f : 0f], [true]);
        var labels = check.StepLabels;
        var mask = check.LabelMask;
        return new VerifierExample(ids, StepPositions(prompt, solution, check),
            labels.Select(l => l == 1 ? 1f : 0f).ToArray(), mask.ToArray());
    }

    /// <summary>
    /// The token position of each step's separator (its newline; the last token when the text ends
    /// without one), in the ids of <paramref name="prompt"/> + <paramref name="solution"/>.
    /// </summary>
    public static long[] StepPositions(string prompt, string solution, SolutionCheck check)
    {
        var text = prompt + solution;
        var last = ByteTokens.Position(text, text.Length) - 1;
        return check.Steps.Select(s => (long)Math.Min(ByteTokens.Position(text, prompt.Length + s.End), last)).ToArray();
    }
}

/// <summary>Settings of verifier training.</summary>
public sealed record VerifierTrainingOptions
{
    /// <summary>Optimizer updates.</summary>
    public int Steps { get; init; } = 800;
    /// <summary>Solutions per update.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Peak learning rate (warm-up then cosine decay to a tenth).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Seed of the head's weights and of the batch order.</summary>
    public int Seed { get; init; }
    /// <summary>
    /// Weight of a correct (target 1) entry in the loss relative to a wrong one. Correct steps and solutions
    /// are the minority of a weak generator's samples, so 1 lets a verifier lean on "wrong"; above 1 evens that out.
    /// </summary>
    public double PositiveWeight { get; init; } = 1.0;
    /// <summary>Call <see cref="StepVerifier.Train"/>'s evaluation callback every this many updates (0: never).</summary>
    public int EvalEvery { get; init; }
}

/// <summary>
/// A verifier of "Let's Verify Step by Step": a causal LM body with a linear head from the hidden state
/// at chosen positions to one logit of "this is correct". A PRM reads every step's newline and is trained
/// on step labels; an ORM reads the final token and is trained on the outcome. Both start from the
/// generator's weights and differ only in where the head reads and which labels it sees.
/// </summary>
public sealed class StepVerifier : nn.Module
{
    /// <summary>The language model whose final hidden states the head reads.</summary>
    public readonly CausalLanguageModel body;
    /// <summary>Hidden state → logit.</summary>
    public readonly Linear head;

    /// <summary>The file of the head's weights inside a verifier folder.</summary>
    public const string HeadFileName = "verifier_head.safetensors";
    /// <summary>The file naming the verifier's kind inside a verifier folder.</summary>
    public const string InfoFileName = "verifier.json";

    /// <summary>A verifier of <paramref name="kind"/> on <paramref name="body"/> (which it now owns) with a fresh head.</summary>
    public StepVerifier(VerifierKind kind, CausalLanguageModel body, long seed = 0) : base(nameof(StepVerifier))
    {
        Kind = kind;
        this.body = body;
        using (var g = new Generator((ulong)seed))
        {
            head = nn.Linear(body.Config.HiddenWidth, 1);
            using var noGrad = no_grad();
            head.weight!.normal_(0, 0.02, generator: g);
            head.bias!.zero_();
        }
        RegisterComponents();
    }

    /// <summary>Process or outcome.</summary>
    public VerifierKind Kind { get; }

    /// <summary>
    /// Logits <c>[B, S]</c> of the head at <paramref name="positions"/> <c>[B, S]</c> (int64 token indices)
    /// of <paramref name="ids"/> <c>[B, T]</c>: the hidden states are gathered along time, so row b's
    /// s-th logit depends only on <c>hidden[b, positions[b, s]]</c>.
    /// </summary>
    public Tensor Logits(Tensor ids, Tensor positions)
    {
        using var scope = NewDisposeScope();
        var hidden = body.Hidden(ids);
        var index = positions.unsqueeze(-1).expand(positions.shape[0], positions.shape[1], hidden.shape[2]);
        var gathered = hidden.gather(1, index);
        return head.forward(gathered).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Binary cross-entropy of <paramref name="logits"/> against 0/1 <paramref name="targets"/>, averaged over
    /// the entries where <paramref name="mask"/> is true; masked entries contribute nothing (not even a gradient).
    /// Entries with target 1 weigh <paramref name="positiveWeight"/> times as much as those with target 0
    /// (the average still divides by the number of masked-in entries).
    /// </summary>
    public static Tensor MaskedLoss(Tensor logits, Tensor targets, Tensor mask, double positiveWeight = 1.0)
    {
        using var scope = NewDisposeScope();
        var m = mask.to_type(ScalarType.Float32);
        var losses = F.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None);
        var weights = positiveWeight == 1.0 ? m : m * (targets * (positiveWeight - 1) + 1);
        return ((losses * weights).sum() / m.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }

    /// <summary>Pads a batch of examples: ids (right-padded with 0; causal attention keeps padding invisible to real tokens), positions, targets, mask.</summary>
    public static (Tensor Ids, Tensor Positions, Tensor Targets, Tensor Mask) Collate(IReadOnlyList<VerifierExample> batch)
    {
        var t = batch.Max(e => e.Ids.Length);
        var s = Math.Max(1, batch.Max(e => e.Positions.Length));
        var ids = new long[batch.Count * t];
        var positions = new long[batch.Count * s];
        var targets = new float[batch.Count * s];
        var mask = new bool[batch.Count * s];
        for (var b = 0; b < batch.Count; b++)
        {
            var e = batch[b];
            Array.Copy(e.Ids, 0, ids, b * t, e.Ids.Length);
            Array.Copy(e.Positions, 0, positions, b * s, e.Positions.Length);
            Array.Copy(e.Targets, 0, targets, b * s, e.Targets.Length);
            Array.Copy(e.Mask, 0, mask, b * s, e.Mask.Length);
        }
        return (tensor(ids, [batch.Count, t]), tensor(positions, [batch.Count, s]), tensor(targets, [batch.Count, s]), tensor(mask, [batch.Count, s]));
    }

    /// <summary>The masked loss of a batch of examples (correct targets weighted by <paramref name="positiveWeight"/>).</summary>
    public Tensor Loss(IReadOnlyList<VerifierExample> batch, double positiveWeight = 1.0)
    {
        using var scope = NewDisposeScope();
        var (ids, positions, targets, mask) = Collate(batch);
        return MaskedLoss(Logits(ids, positions), targets, mask, positiveWeight).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Trains on <paramref name="examples"/> (examples with no masked-in target are dropped) for
    /// <see cref="VerifierTrainingOptions.Steps"/> updates of random batches; <paramref name="onStep"/> gets
    /// (step, loss, learning rate); <paramref name="onEval"/> gets the number of updates done every
    /// <see cref="VerifierTrainingOptions.EvalEvery"/> updates, with the verifier in eval mode (for a held-out curve).
    /// </summary>
    public void Train(IReadOnlyList<VerifierExample> examples, VerifierTrainingOptions options, Action<int, double, double>? onStep = null, Action<int>? onEval = null)
    {
        if (options.PositiveWeight <= 0) throw new ArgumentException($"the positive weight must be above 0, not {options.PositiveWeight}.");
        var usable = examples.Where(e => e.Mask.Any(m => m) && e.Ids.Length <= body.ContextLength).ToArray();
        if (usable.Length == 0) throw new ArgumentException("there are no verifier examples with a label to train on.");
        var schedule = new TrainerOptions
        {
            MaxSteps = options.Steps, LearningRate = options.LearningRate, MinLearningRate = options.LearningRate / 10,
            WarmupSteps = Math.Max(1, options.Steps / 20), WeightDecay = 0.1,
        };
        using var optimizer = Farabi.Training.AdamW.ForModel(this, schedule);
        var rng = new Random(options.Seed);
        train();
        for (var step = 0; step < options.Steps; step++)
        {
            var batch = Enumerable.Range(0, options.BatchSize).Select(_ => usable[rng.Next(usable.Length)]).ToArray();
            var lr = LearningRateSchedule.At(step, schedule);
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            using var loss = Loss(batch, options.PositiveWeight);
            loss.backward();
            GradientClipping.ClipGlobalNorm(parameters(), 1.0);
            optimizer.Step(lr);
            onStep?.Invoke(step, loss.item<float>(), lr);
            if (onEval is not null && options.EvalEvery > 0 && (step + 1) % options.EvalEvery == 0 && step + 1 < options.Steps)
            {
                eval();
                onEval(step + 1);
                train();
            }
        }
        eval();
    }

    /// <summary>
    /// Probabilities of correctness for each of <paramref name="solutions"/> to <paramref name="prompt"/>:
    /// a PRM gives one per step (as <see cref="StepChecker"/> splits the text, answer line included), an
    /// ORM a single one. Solutions are scored in batches of <paramref name="batchSize"/>; a solution too long
    /// for the context gets zeros.
    /// </summary>
    public IReadOnlyList<double[]> Score(string prompt, IReadOnlyList<string> solutions, StepCheckReference reference, int batchSize = 32)
    {
        var examples = solutions.Select(s => VerifierExample.From(Kind, prompt, s, StepChecker.Check(reference, s))).ToArray();
        var promptIds = ByteTokens.Encode(prompt);
        var result = new double[examples.Length][];
        using var noGrad = no_grad();
        for (var start = 0; start < examples.Length; start += batchSize)
        {
            var idx = Enumerable.Range(start, Math.Min(batchSize, examples.Length - start))
                .Where(i => examples[i].Positions.Length > 0 && examples[i].Ids.Length <= body.ContextLength).ToArray();
            foreach (var i in Enumerable.Range(start, Math.Min(batchSize, examples.Length - start)).Except(idx))
                result[i] = new double[examples[i].Positions.Length];
            if (idx.Length == 0) continue;
            using var scope = NewDisposeScope();
            var (ids, positions) = SharedPromptBatch(promptIds, idx.Select(i => examples[i]).ToArray());
            var probs = LogitsAfterPrompt(promptIds, ids, positions).sigmoid().to_type(ScalarType.Float64).data<double>().ToArray();
            var s = (int)positions.shape[1];
            for (var k = 0; k < idx.Length; k++)
                result[idx[k]] = probs.Skip(k * s).Take(examples[idx[k]].Positions.Length).ToArray();
        }
        return result;
    }

    /// <summary>
    /// The head's probabilities at each example's positions (targets and mask are ignored), in batches of
    /// <paramref name="batchSize"/>; <paramref name="onBatch"/> is told how many examples are done. For inputs
    /// that share no prompt (a classifier over unrelated texts); <see cref="Score"/> is faster for samples of one problem.
    /// </summary>
    public IReadOnlyList<double[]> ScoreExamples(IReadOnlyList<VerifierExample> examples, int batchSize = 32, Action<int>? onBatch = null)
    {
        var result = new double[examples.Count][];
        using var noGrad = no_grad();
        // Similar lengths together: less padding to run through the model.
        var order = Enumerable.Range(0, examples.Count).OrderBy(i => examples[i].Ids.Length).ToArray();
        for (var start = 0; start < order.Length; start += batchSize)
        {
            var idx = order.Skip(start).Take(batchSize).ToArray();
            using var scope = NewDisposeScope();
            var (ids, positions, _, _) = Collate(idx.Select(i => examples[i]).ToArray());
            var probs = Logits(ids, positions).sigmoid().to_type(ScalarType.Float64).data<double>().ToArray();
            var s = (int)positions.shape[1];
            for (var k = 0; k < idx.Length; k++)
                result[idx[k]] = probs.Skip(k * s).Take(examples[idx[k]].Positions.Length).ToArray();
            onBatch?.Invoke(Math.Min(order.Length, start + batchSize));
        }
        return result;
    }

    /// <summary>
    /// The part of each example after all but the last prompt token (right-padded with 0) and its positions
    /// shifted to match; every example must start with <paramref name="promptIds"/>. Keeping the last prompt
    /// token makes every position (an ORM on an empty solution reads it) land inside the batch.
    /// </summary>
    static (Tensor Ids, Tensor Positions) SharedPromptBatch(long[] promptIds, IReadOnlyList<VerifierExample> batch)
    {
        var offset = promptIds.Length - 1;
        var t = batch.Max(e => e.Ids.Length) - offset;
        var s = Math.Max(1, batch.Max(e => e.Positions.Length));
        var ids = new long[batch.Count * t];
        var positions = new long[batch.Count * s];
        for (var b = 0; b < batch.Count; b++)
        {
            var e = batch[b];
            Array.Copy(e.Ids, offset, ids, b * t, e.Ids.Length - offset);
            for (var k = 0; k < e.Positions.Length; k++) positions[b * s + k] = e.Positions[k] - offset;
        }
        return (tensor(ids, [batch.Count, t]), tensor(positions, [batch.Count, s]));
    }

    /// <summary>
    /// <see cref="Logits"/> for a batch that shares a prompt: the prompt (all but its last token) runs once
    /// as a batch of one into a key-value cache that every row then continues from, so scoring N samples of
    /// one problem costs one prompt plus N solutions instead of N prompts (a prompt is most of the bytes).
    /// <paramref name="ids"/> and <paramref name="positions"/> are relative to the end of that prefix.
    /// </summary>
    Tensor LogitsAfterPrompt(long[] promptIds, Tensor ids, Tensor positions)
    {
        using var scope = NewDisposeScope();
        if (promptIds.Length < 2) return Logits(ids, positions).MoveToOuterDisposeScope();
        using var cache = body.NewCache(promptIds.Length - 1 + (int)ids.shape[1]);
        body.Hidden(tensor(promptIds[..^1], [1, promptIds.Length - 1]), cache);
        cache.ExpandBatch((int)ids.shape[0]);
        var hidden = body.Hidden(ids, cache);
        var index = positions.unsqueeze(-1).expand(positions.shape[0], positions.shape[1], hidden.shape[2]);
        return head.forward(hidden.gather(1, index)).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the body as an HF folder plus the head's weights and <c>verifier.json</c> (the kind).</summary>
    public void Save(string directory)
    {
        body.SaveHf(directory);
        Safetensors.Save(Path.Combine(directory, HeadFileName), head.state_dict());
        var info = new JsonObject { ["kind"] = Kind == VerifierKind.Process ? "prm" : "orm" };
        AtomicFile.WriteText(Path.Combine(directory, InfoFileName), info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Loads a folder written by <see cref="Save"/>, in eval mode.</summary>
    /// <exception cref="FileNotFoundException">The folder lacks a verifier file.</exception>
    /// <exception cref="InvalidDataException"><c>verifier.json</c> names no known kind.</exception>
    public static StepVerifier Load(string directory)
    {
        var infoPath = Path.Combine(directory, InfoFileName);
        if (!File.Exists(infoPath)) throw new FileNotFoundException($"'{directory}' is not a verifier folder: it has no {InfoFileName}.", infoPath);
        var kind = (JsonNode.Parse(File.ReadAllText(infoPath))?["kind"]?.GetValue<string>()) switch
        {
            "prm" => VerifierKind.Process,
            "orm" => VerifierKind.Outcome,
            var k => throw new InvalidDataException($"{infoPath}: kind must be \"prm\" or \"orm\", not {k ?? "missing"}."),
        };
        var verifier = new StepVerifier(kind, CausalLanguageModel.Load(directory));
        Safetensors.LoadInto(verifier.head, Path.Combine(directory, HeadFileName));
        verifier.eval();
        return verifier;
    }
}

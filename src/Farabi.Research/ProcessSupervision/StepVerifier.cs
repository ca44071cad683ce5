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
/// position, the last token, with target <see cref="SolutionCheck.IsCorrect"/>. <paramref name="LmMask"/> (one
/// flag per token, or null) marks the tokens the language-model loss of <see cref="VerifierTrainingOptions.LmLossWeight"/>
/// predicts: the bytes of the steps a label calls correct (PRM) or of a correct solution (ORM), so each verifier
/// keeps its language model on text its own kind of label vouches for. <paramref name="Starts"/> (or null: each
/// position alone) gives the first token of the span each position closes (a step's first byte for a PRM, the
/// solution's first byte for an ORM), over which a verifier that reads surprisal summarises the log-probabilities.
/// </summary>
public sealed record VerifierExample(long[] Ids, long[] Positions, float[] Targets, bool[] Mask, bool[]? LmMask = null, long[]? Starts = null)
{
    /// <summary>The example of <paramref name="solution"/> to <paramref name="prompt"/> as <paramref name="kind"/> sees it.</summary>
    public static VerifierExample From(VerifierKind kind, string prompt, string solution, SolutionCheck check)
    {
        var text = prompt + solution;
        var ids = ByteTokens.Encode(text);
        var lm = new bool[ids.Length];
        void Vouch(int startChar, int endChar)
        {
            var last = Math.Min(ByteTokens.Position(text, Math.Min(text.Length - 1, endChar)), ids.Length - 1);
            for (var t = ByteTokens.Position(text, startChar); t <= last; t++) lm[t] = true;
        }
        if (kind == VerifierKind.Outcome)
        {
            if (check.IsCorrect && solution.Length > 0) Vouch(prompt.Length, text.Length - 1);
            // The span is the solution's bytes; an empty solution's span is empty (it starts past the last token).
            return new VerifierExample(ids, [ids.Length - 1], [check.IsCorrect ? 1f : 0f], [true], lm, [ByteTokens.Position(text, prompt.Length)]);
        }
        var labels = check.StepLabels;
        var mask = check.LabelMask;
        for (var i = 0; i < check.Steps.Count; i++)
            if (labels[i] == 1) Vouch(prompt.Length + check.Steps[i].Start, prompt.Length + check.Steps[i].End);
        var positions = StepPositions(prompt, solution, check);
        var starts = check.Steps.Select((step, i) => Math.Min(positions[i], (long)ByteTokens.Position(text, prompt.Length + step.Start))).ToArray();
        return new VerifierExample(ids, positions, labels.Select(l => l == 1 ? 1f : 0f).ToArray(), mask.ToArray(), lm, starts);
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
    public int Steps { get; init; } = 2000;
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
    /// <summary>
    /// Weight of a next-byte language-model loss added to the verifier's loss, on the tokens of
    /// <see cref="VerifierExample.LmMask"/>. The paper's PRM is a language model that predicts a verdict token;
    /// keeping a language-model objective stops fine-tuning from wearing away what the generator's weights know
    /// about the arithmetic. 0 trains the head's loss alone.
    /// </summary>
    public double LmLossWeight { get; init; } = 1.0;
    /// <summary>Build the verifier to train with a head that also reads surprisal (<see cref="StepVerifier.ReadsSurprisal"/>).</summary>
    public bool Surprisal { get; init; } = true;
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
    /// <summary>Hidden state (and, when <see cref="ReadsSurprisal"/>, the two surprisal features) → logit.</summary>
    public readonly Linear head;

    /// <summary>The features a surprisal-reading head adds to the hidden state.</summary>
    public const int SurprisalFeatures = 2;
    /// <summary>The starting weight of each surprisal feature in the head.</summary>
    public const double SurprisalInitialWeight = 0.5;

    /// <summary>The file of the head's weights inside a verifier folder.</summary>
    public const string HeadFileName = "verifier_head.safetensors";
    /// <summary>The file naming the verifier's kind inside a verifier folder.</summary>
    public const string InfoFileName = "verifier.json";

    /// <summary>
    /// A verifier of <paramref name="kind"/> on <paramref name="body"/> (which it now owns) with a fresh head;
    /// with <paramref name="surprisal"/> the head also reads how surprised the body's own language model is by
    /// the span each position closes (see <see cref="ReadsSurprisal"/>).
    /// </summary>
    public StepVerifier(VerifierKind kind, CausalLanguageModel body, long seed = 0, bool surprisal = false) : base(nameof(StepVerifier))
    {
        Kind = kind;
        ReadsSurprisal = surprisal;
        this.body = body;
        using (var g = new Generator((ulong)seed))
        {
            head = nn.Linear(body.Config.HiddenWidth + (surprisal ? SurprisalFeatures : 0), 1);
            using var noGrad = no_grad();
            head.weight!.normal_(0, 0.02, generator: g);
            head.bias!.zero_();
            if (surprisal) head.weight!.narrow(1, body.Config.HiddenWidth, SurprisalFeatures).fill_(SurprisalInitialWeight);
        }
        RegisterComponents();
    }

    /// <summary>Process or outcome.</summary>
    public VerifierKind Kind { get; }

    /// <summary>
    /// Whether the head reads, beside the hidden state at each position, the lowest and the mean log-probability
    /// (nats, floored at −30) that the body's language model gives the tokens of the span the position closes: the
    /// step's bytes for a PRM, the whole solution's for an ORM. A small model's hidden state at a step's newline
    /// does not carry "the digits I just read were not the ones I expected" (the generator's own per-step
    /// likelihood separates right from wrong steps better than a head on that state learns to); the
    /// language model's log-probabilities do, and both kinds of verifier get the same two numbers. Their weights
    /// start at <see cref="SurprisalInitialWeight"/> each, so an untrained head already ranks like the likelihood
    /// and training refines it (from zero, AdamW's steps of about the learning rate would take thousands of
    /// updates to give the features a say).
    /// </summary>
    public bool ReadsSurprisal { get; }

    /// <summary>
    /// Logits <c>[B, S]</c> of the head at <paramref name="positions"/> <c>[B, S]</c> (int64 token indices)
    /// of <paramref name="ids"/> <c>[B, T]</c>: the hidden states are gathered along time, so row b's
    /// s-th logit depends only on <c>hidden[b, positions[b, s]]</c>.
    /// </summary>
    /// <remarks>A surprisal-reading verifier summarises the tokens from <paramref name="starts"/> <c>[B, S]</c>
    /// (default: each position alone) to each position.</remarks>
    public Tensor Logits(Tensor ids, Tensor positions, Tensor? starts = null)
    {
        using var scope = NewDisposeScope();
        return HeadAt(body.Hidden(ids), positions, ids, starts ?? positions).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The head's logits <c>[B, S]</c> at <paramref name="positions"/> of <paramref name="hidden"/> <c>[B, T, H]</c>
    /// (the states of <paramref name="ids"/> <c>[B, T]</c>; the first token's log-probability, which nothing
    /// in the batch predicts, counts as 0). <paramref name="lmLogits"/>: the body's next-token logits of
    /// <paramref name="hidden"/> when the caller already has them.
    /// </summary>
    Tensor HeadAt(Tensor hidden, Tensor positions, Tensor ids, Tensor starts, Tensor? lmLogits = null)
    {
        using var scope = NewDisposeScope();
        var index = positions.unsqueeze(-1).expand(positions.shape[0], positions.shape[1], hidden.shape[2]);
        var gathered = hidden.gather(1, index);
        if (!ReadsSurprisal) return head.forward(gathered).squeeze(-1).MoveToOuterDisposeScope();
        var (b, t) = (ids.shape[0], ids.shape[1]);
        // tokenLogp[b, t] = log P(ids[b, t] | ids[b, ..t]), read from the logits at t − 1.
        var logp = F.log_softmax(lmLogits?.narrow(1, 0, t - 1) ?? body.Head(hidden.narrow(1, 0, t - 1)), -1);
        var predicted = logp.gather(2, ids.narrow(1, 1, t - 1).unsqueeze(-1)).squeeze(-1);
        var tokenLogp = F.pad(predicted, [1, 0]).clamp_min(-30).unsqueeze(1); // [B, 1, T]
        var time = arange(t, dtype: ScalarType.Int64).view(1, 1, t);
        var inSpan = time.ge(starts.unsqueeze(-1)).logical_and(time.le(positions.unsqueeze(-1))); // [B, S, T]
        var count = inSpan.sum(-1, type: ScalarType.Float32).clamp_min(1);
        // Log-probabilities are at most 0, so zeros outside the span leave both the sum and the minimum alone.
        var inSpanLogp = tokenLogp.expand(b, positions.shape[1], t).where(inSpan, zeros_like(tokenLogp));
        var mean = inSpanLogp.sum(-1) / count;
        var min = inSpanLogp.min(-1).values;
        var features = stack([min, mean], -1);
        return head.forward(cat([gathered, features], -1)).squeeze(-1).MoveToOuterDisposeScope();
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

    /// <summary>
    /// Pads a batch of examples: ids (right-padded with 0; causal attention keeps padding invisible to real
    /// tokens), positions, targets, mask, and span starts (each position itself where an example has none).
    /// </summary>
    public static (Tensor Ids, Tensor Positions, Tensor Targets, Tensor Mask, Tensor Starts) Collate(IReadOnlyList<VerifierExample> batch)
    {
        var t = batch.Max(e => e.Ids.Length);
        var s = Math.Max(1, batch.Max(e => e.Positions.Length));
        var ids = new long[batch.Count * t];
        var positions = new long[batch.Count * s];
        var starts = new long[batch.Count * s];
        var targets = new float[batch.Count * s];
        var mask = new bool[batch.Count * s];
        for (var b = 0; b < batch.Count; b++)
        {
            var e = batch[b];
            Array.Copy(e.Ids, 0, ids, b * t, e.Ids.Length);
            Array.Copy(e.Positions, 0, positions, b * s, e.Positions.Length);
            Array.Copy(e.Starts ?? e.Positions, 0, starts, b * s, e.Positions.Length);
            Array.Copy(e.Targets, 0, targets, b * s, e.Targets.Length);
            Array.Copy(e.Mask, 0, mask, b * s, e.Mask.Length);
        }
        return (tensor(ids, [batch.Count, t]), tensor(positions, [batch.Count, s]), tensor(targets, [batch.Count, s]), tensor(mask, [batch.Count, s]),
            tensor(starts, [batch.Count, s]));
    }

    /// <summary>
    /// The masked loss of a batch of examples (correct targets weighted by <paramref name="positiveWeight"/>), plus
    /// <paramref name="lmLossWeight"/> times the mean next-byte cross-entropy over the tokens their
    /// <see cref="VerifierExample.LmMask"/> marks (nothing when none is marked).
    /// </summary>
    public Tensor Loss(IReadOnlyList<VerifierExample> batch, double positiveWeight = 1.0, double lmLossWeight = 0)
    {
        using var scope = NewDisposeScope();
        var (ids, positions, targets, mask, starts) = Collate(batch);
        var hidden = body.Hidden(ids);
        // One projection to the vocabulary serves both the surprisal features and the language-model loss.
        var lmLogits = ReadsSurprisal || lmLossWeight != 0 ? body.Head(hidden) : null;
        var loss = MaskedLoss(HeadAt(hidden, positions, ids, starts, lmLogits), targets, mask, positiveWeight);
        if (lmLossWeight == 0) return loss.MoveToOuterDisposeScope();
        // Token t is predicted from position t − 1: targets are the ids one step on, −100 where not marked.
        var t = (int)ids.shape[1];
        var lmTargets = Enumerable.Repeat(-100L, batch.Count * t).ToArray();
        var any = false;
        for (var b = 0; b < batch.Count; b++)
        {
            if (batch[b].LmMask is not { } lm) continue;
            for (var k = 1; k < lm.Length; k++)
                if (lm[k]) { lmTargets[b * t + k - 1] = batch[b].Ids[k]; any = true; }
        }
        if (!any) return loss.MoveToOuterDisposeScope();
        using var weight = lmLossWeight.ToScalar();
        var lmLoss = F.cross_entropy(lmLogits!.view(-1, lmLogits.shape[^1]), tensor(lmTargets), ignore_index: -100);
        return (loss + lmLoss * weight).MoveToOuterDisposeScope();
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
        if (options.LmLossWeight < 0) throw new ArgumentException($"the language-model loss weight must be 0 or more, not {options.LmLossWeight}.");
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
            using var loss = Loss(batch, options.PositiveWeight, options.LmLossWeight);
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
            var (ids, positions, starts) = SharedPromptBatch(promptIds, idx.Select(i => examples[i]).ToArray());
            var probs = LogitsAfterPrompt(promptIds, ids, positions, starts).sigmoid().to_type(ScalarType.Float64).data<double>().ToArray();
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
            var (ids, positions, _, _, starts) = Collate(idx.Select(i => examples[i]).ToArray());
            var probs = Logits(ids, positions, starts).sigmoid().to_type(ScalarType.Float64).data<double>().ToArray();
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
    static (Tensor Ids, Tensor Positions, Tensor Starts) SharedPromptBatch(long[] promptIds, IReadOnlyList<VerifierExample> batch)
    {
        var offset = promptIds.Length - 1;
        var t = batch.Max(e => e.Ids.Length) - offset;
        var s = Math.Max(1, batch.Max(e => e.Positions.Length));
        var ids = new long[batch.Count * t];
        var positions = new long[batch.Count * s];
        var starts = new long[batch.Count * s];
        for (var b = 0; b < batch.Count; b++)
        {
            var e = batch[b];
            Array.Copy(e.Ids, offset, ids, b * t, e.Ids.Length - offset);
            for (var k = 0; k < e.Positions.Length; k++)
            {
                positions[b * s + k] = e.Positions[k] - offset;
                starts[b * s + k] = Math.Max(0, (e.Starts ?? e.Positions)[k] - offset);
            }
        }
        return (tensor(ids, [batch.Count, t]), tensor(positions, [batch.Count, s]), tensor(starts, [batch.Count, s]));
    }

    /// <summary>
    /// <see cref="Logits"/> for a batch that shares a prompt: the prompt (all but its last token) runs once
    /// as a batch of one into a key-value cache that every row then continues from, so scoring N samples of
    /// one problem costs one prompt plus N solutions instead of N prompts (a prompt is most of the bytes).
    /// <paramref name="ids"/> and <paramref name="positions"/> are relative to the end of that prefix.
    /// </summary>
    Tensor LogitsAfterPrompt(long[] promptIds, Tensor ids, Tensor positions, Tensor starts)
    {
        using var scope = NewDisposeScope();
        if (promptIds.Length < 2) return Logits(ids, positions, starts).MoveToOuterDisposeScope();
        using var cache = body.NewCache(promptIds.Length - 1 + (int)ids.shape[1]);
        body.Hidden(tensor(promptIds[..^1], [1, promptIds.Length - 1]), cache);
        cache.ExpandBatch((int)ids.shape[0]);
        var hidden = body.Hidden(ids, cache);
        return HeadAt(hidden, positions, ids, starts).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the body as an HF folder plus the head's weights and <c>verifier.json</c> (the kind).</summary>
    public void Save(string directory)
    {
        body.SaveHf(directory);
        Safetensors.Save(Path.Combine(directory, HeadFileName), head.state_dict());
        var info = new JsonObject { ["kind"] = Kind == VerifierKind.Process ? "prm" : "orm", ["surprisal"] = ReadsSurprisal };
        AtomicFile.WriteText(Path.Combine(directory, InfoFileName), info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Loads a folder written by <see cref="Save"/>, in eval mode.</summary>
    /// <exception cref="FileNotFoundException">The folder lacks a verifier file.</exception>
    /// <exception cref="InvalidDataException"><c>verifier.json</c> names no known kind.</exception>
    public static StepVerifier Load(string directory)
    {
        var infoPath = Path.Combine(directory, InfoFileName);
        if (!File.Exists(infoPath)) throw new FileNotFoundException($"'{directory}' is not a verifier folder: it has no {InfoFileName}.", infoPath);
        var info = JsonNode.Parse(File.ReadAllText(infoPath));
        var kind = (info?["kind"]?.GetValue<string>()) switch
        {
            "prm" => VerifierKind.Process,
            "orm" => VerifierKind.Outcome,
            var k => throw new InvalidDataException($"{infoPath}: kind must be \"prm\" or \"orm\", not {k ?? "missing"}."),
        };
        // Folders written before the surprisal option have no "surprisal" key: a plain head.
        var surprisal = info?["surprisal"]?.GetValue<bool>() ?? false;
        var verifier = new StepVerifier(kind, CausalLanguageModel.Load(directory), surprisal: surprisal);
        Safetensors.LoadInto(verifier.head, Path.Combine(directory, HeadFileName));
        verifier.eval();
        return verifier;
    }
}

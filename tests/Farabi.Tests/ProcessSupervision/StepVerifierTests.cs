using Farabi.Models;
using Farabi.Research.ProcessSupervision;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.ProcessSupervision;

public sealed class StepVerifierTests
{
    // The patched TorchSharp shim must be in place before the first torch call of this class.
    static StepVerifierTests() => Farabi.Native.GlibcxxCompat.EnsureLoadable();

    static CausalLanguageModel TinyBody(long seed = 1, GeneratorArchitecture architecture = GeneratorArchitecture.Llama) =>
        new SolutionGeneratorOptions { Architecture = architecture, Layers = 1, Width = 16, Heads = 2, ContextLength = 256 }.ModelConfig().CreateModel(seed);

    static readonly ArithmeticProblem Problem = new ArithmeticProblemGenerator(new() { MinSteps = 3, MaxSteps = 3, Digits = 1 }, 3).Next();

    [Fact]
    public void Step_positions_are_the_newlines_of_each_step()
    {
        var check = StepChecker.Check(Problem.Reference, Problem.Solution);
        var positions = VerifierExample.StepPositions(Problem.Prompt, Problem.Solution, check);
        var ids = ByteTokens.Encode(Problem.Prompt + Problem.Solution);
        Assert.Equal(4, positions.Length); // three calculations and the answer line
        Assert.All(positions, p => Assert.Equal('\n', (char)ids[p]));
        // Every newline of the solution part is a step end, in order.
        var newlines = Enumerable.Range(Problem.Prompt.Length, ids.Length - Problem.Prompt.Length).Where(i => ids[i] == '\n').Select(i => (long)i);
        Assert.Equal(newlines, positions);

        // Without a final newline the last step is read at the last token.
        var cut = Problem.Solution.TrimEnd('\n');
        var cutPositions = VerifierExample.StepPositions(Problem.Prompt, cut, StepChecker.Check(Problem.Reference, cut));
        Assert.Equal(Problem.Prompt.Length + cut.Length - 1, cutPositions[^1]);
    }

    [Fact]
    public void Prm_logits_read_the_hidden_state_at_the_given_positions()
    {
        using var verifier = new StepVerifier(VerifierKind.Process, TinyBody(), seed: 5);
        verifier.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = randint(0, 256, [2, 20], dtype: ScalarType.Int64);
        var positions = tensor(new long[] { 3, 7, 19, 0, 12, 5 }, [2, 3]);
        var logits = verifier.Logits(ids, positions);
        Assert.Equal(new long[] { 2, 3 }, logits.shape);
        var hidden = verifier.body.Hidden(ids);
        var pos = positions.data<long>().ToArray();
        for (var b = 0; b < 2; b++)
            for (var s = 0; s < 3; s++)
            {
                var expected = verifier.head.forward(hidden[b, pos[b * 3 + s]]).item<float>();
                Assert.Equal(expected, logits[b, s].item<float>(), 4);
            }
        // Different positions give different logits (the gather does not collapse to one position).
        Assert.NotEqual(logits[0, 0].item<float>(), logits[0, 1].item<float>());
    }

    [Fact]
    public void Masked_targets_do_not_change_the_loss_or_get_a_gradient()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 0.3f, -1.2f, 2.0f, 0.5f }, [1, 4]).requires_grad_(true);
        var mask = tensor(new[] { true, true, false, false }, [1, 4]);
        var a = StepVerifier.MaskedLoss(logits, tensor(new float[] { 1, 0, 1, 1 }, [1, 4]), mask);
        var b = StepVerifier.MaskedLoss(logits, tensor(new float[] { 1, 0, 0, 0 }, [1, 4]), mask);
        var c = StepVerifier.MaskedLoss(logits, tensor(new float[] { 0, 0, 1, 1 }, [1, 4]), mask);
        Assert.Equal(a.item<float>(), b.item<float>(), 6);
        Assert.NotEqual(a.item<float>(), c.item<float>(), 3);
        // The mean is over the two unmasked entries only.
        var manual = (Math.Log(1 + Math.Exp(-0.3)) + Math.Log(1 + Math.Exp(-1.2))) / 2;
        Assert.Equal(manual, a.item<float>(), 5);
        a.backward();
        var grad = logits.grad!.data<float>().ToArray();
        Assert.Equal(0f, grad[2]);
        Assert.Equal(0f, grad[3]);
        Assert.NotEqual(0f, grad[0]);
    }

    [Fact]
    public void Positive_weight_scales_only_correct_targets()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 0.3f, -1.2f, 2.0f }, [1, 3]);
        var targets = tensor(new float[] { 1, 0, 1 }, [1, 3]);
        var mask = tensor(new[] { true, true, false }, [1, 3]);
        var plain = StepVerifier.MaskedLoss(logits, targets, mask).item<float>();
        var weighted = StepVerifier.MaskedLoss(logits, targets, mask, positiveWeight: 3).item<float>();
        var pos = Math.Log(1 + Math.Exp(-0.3));  // target 1 at logit 0.3
        var neg = Math.Log(1 + Math.Exp(-1.2));  // target 0 at logit −1.2
        Assert.Equal((pos + neg) / 2, plain, 5);
        // The correct entry counts three times; the masked one (also correct) still not at all.
        Assert.Equal((3 * pos + neg) / 2, weighted, 5);
    }

    [Fact]
    public void Prm_examples_mask_steps_after_the_first_error()
    {
        var wrong = Problem.Solution.Split('\n');
        wrong[0] = wrong[0][..(wrong[0].IndexOf('=') + 1)] + "999";
        var text = string.Join('\n', wrong);
        var check = StepChecker.Check(Problem.Reference, text);
        var e = VerifierExample.From(VerifierKind.Process, Problem.Prompt, text, check);
        Assert.Equal(new[] { 0f, 0f, 0f, 0f }, e.Targets);
        Assert.Equal(new[] { true, false, false, false }, e.Mask);
        var orm = VerifierExample.From(VerifierKind.Outcome, Problem.Prompt, text, check);
        Assert.Equal(new[] { orm.Ids.Length - 1L }, orm.Positions);
        // Later steps still use the true intermediate result, so the answer is right: the outcome label says
        // correct while the process label flags the first step; that difference is what a PRM adds.
        Assert.True(check.IsCorrect);
        Assert.Equal(new[] { 1f }, orm.Targets);
    }

    [Fact]
    public void Language_model_mask_covers_the_bytes_each_kind_of_label_vouches_for()
    {
        var lines = Problem.Solution.Split('\n');
        lines[1] = lines[1][..(lines[1].IndexOf('=') + 1)] + "999";
        var text = string.Join('\n', lines);
        var check = StepChecker.Check(Problem.Reference, text);
        Assert.Equal(new[] { 1, -1, 0, 0 }, check.StepLabels);
        string Marked(VerifierExample e) => ByteTokens.Decode(e.Ids.Where((_, t) => e.LmMask![t]));

        // PRM: the first step (its newline included) is the only one a label calls correct.
        var prm = VerifierExample.From(VerifierKind.Process, Problem.Prompt, text, check);
        Assert.Equal(lines[0] + "\n", Marked(prm));
        // ORM: all of a correct solution, nothing of a wrong one; never the prompt.
        var right = VerifierExample.From(VerifierKind.Outcome, Problem.Prompt, Problem.Solution, StepChecker.Check(Problem.Reference, Problem.Solution));
        Assert.Equal(Problem.Solution, Marked(right));
        var wrongOutcome = $"1+1=2\nanswer: {Problem.Answer + 1}\n";
        var wrong = VerifierExample.From(VerifierKind.Outcome, Problem.Prompt, wrongOutcome, StepChecker.Check(Problem.Reference, wrongOutcome));
        Assert.Equal("", Marked(wrong));
        // A PRM example of the right solution marks every solution byte, as the ORM's does.
        var prmRight = VerifierExample.From(VerifierKind.Process, Problem.Prompt, Problem.Solution, StepChecker.Check(Problem.Reference, Problem.Solution));
        Assert.Equal(Problem.Solution, Marked(prmRight));
    }

    [Fact]
    public void Language_model_loss_adds_the_weighted_cross_entropy_of_the_marked_bytes()
    {
        using var verifier = new StepVerifier(VerifierKind.Process, TinyBody(), seed: 2);
        verifier.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var e = VerifierExample.From(VerifierKind.Process, Problem.Prompt, Problem.Solution, StepChecker.Check(Problem.Reference, Problem.Solution));
        var headOnly = verifier.Loss([e], lmLossWeight: 0).item<float>();
        var withLm = verifier.Loss([e], lmLossWeight: 0.5).item<float>();
        // The cross-entropy by hand: log-probabilities of each marked byte from the position before it.
        var logp = TorchSharp.torch.nn.functional.log_softmax(verifier.body.Forward(tensor(e.Ids, [1, e.Ids.Length])), -1);
        var marked = Enumerable.Range(1, e.Ids.Length - 1).Where(t => e.LmMask![t]).ToArray();
        var ce = -marked.Average(t => logp[0, t - 1, e.Ids[t]].item<float>());
        Assert.Equal(headOnly + 0.5 * ce, withLm, 4);
        // Nothing marked: the head's loss alone, whatever the weight.
        var bare = e with { LmMask = new bool[e.Ids.Length] };
        Assert.Equal(headOnly, verifier.Loss([bare], lmLossWeight: 3).item<float>(), 5);
    }

    [Fact]
    public void A_surprisal_head_reads_the_lowest_and_mean_log_probability_of_each_step()
    {
        using var verifier = new StepVerifier(VerifierKind.Process, TinyBody(), seed: 4, surprisal: true);
        verifier.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var e = VerifierExample.From(VerifierKind.Process, Problem.Prompt, Problem.Solution, StepChecker.Check(Problem.Reference, Problem.Solution));
        // Each span is one step's bytes: from its first byte to its newline.
        var text = Problem.Prompt + Problem.Solution;
        Assert.Equal(Problem.Solution.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            e.Starts!.Zip(e.Positions, (a, b) => text[(int)a..(int)b]));
        var ids = tensor(e.Ids, [1, e.Ids.Length]);
        var logits = verifier.Logits(ids, tensor(e.Positions, [1, e.Positions.Length]), tensor(e.Starts!, [1, e.Starts!.Length]));
        var hidden = verifier.body.Hidden(ids);
        var logp = TorchSharp.torch.nn.functional.log_softmax(verifier.body.Head(hidden), -1);
        for (var s = 0; s < e.Positions.Length; s++)
        {
            var values = Enumerable.Range((int)e.Starts![s], (int)(e.Positions[s] - e.Starts[s]) + 1).Select(t => logp[0, t - 1, e.Ids[t]].item<float>()).ToArray();
            var features = tensor(new[] { values.Min(), values.Average() });
            var expected = verifier.head.forward(cat([hidden[0, e.Positions[s]], features])).item<float>();
            Assert.Equal(expected, logits[0, s].item<float>(), 4);
        }
        // The features start with weight SurprisalInitialWeight each, and they matter: zeroing their weights changes the logits.
        Assert.All(verifier.head.weight!.data<float>().ToArray()[^StepVerifier.SurprisalFeatures..], w => Assert.Equal(StepVerifier.SurprisalInitialWeight, w, 6));
        using (no_grad()) verifier.head.weight!.narrow(1, verifier.head.weight!.shape[1] - StepVerifier.SurprisalFeatures, StepVerifier.SurprisalFeatures).zero_();
        var plain = verifier.Logits(ids, tensor(e.Positions, [1, e.Positions.Length]), tensor(e.Starts!, [1, e.Starts!.Length]));
        Assert.False(plain.allclose(logits));
    }

    [Fact]
    public void A_surprisal_verifier_scores_the_same_through_the_prompt_cache_and_after_saving()
    {
        string[] solutions = [Problem.Solution, "1+1=2\nanswer: 2\n", "9*9=81\n", ""];
        foreach (var kind in new[] { VerifierKind.Process, VerifierKind.Outcome })
        {
            using var verifier = new StepVerifier(kind, TinyBody(), seed: 6, surprisal: true);
            using (no_grad()) verifier.head.weight!.normal_(0, 1); // features weigh in visibly
            verifier.eval();
            var cached = verifier.Score(Problem.Prompt, solutions, Problem.Reference);
            var examples = solutions.Select(s => VerifierExample.From(kind, Problem.Prompt, s, StepChecker.Check(Problem.Reference, s))).ToArray();
            var full = verifier.ScoreExamples(examples);
            for (var i = 0; i < solutions.Length; i++)
                for (var k = 0; k < full[i].Length; k++) Assert.Equal(full[i][k], cached[i][k], 4);
            var dir = Path.Combine(Path.GetTempPath(), $"farabi-surprisal-{Guid.NewGuid():N}");
            try
            {
                verifier.Save(dir);
                using var loaded = StepVerifier.Load(dir);
                Assert.True(loaded.ReadsSurprisal);
                var again = loaded.Score(Problem.Prompt, solutions, Problem.Reference);
                for (var i = 0; i < solutions.Length; i++) Assert.Equal(cached[i], again[i]);
            }
            finally { Directory.Delete(dir, true); }
        }
    }

    [Fact]
    public void Drill_documents_are_right_calculations_of_the_task()
    {
        var options = new ArithmeticProblemOptions { MinSteps = 2, MaxSteps = 3, Digits = 1, MaxValue = 99 };
        var text = SolutionGenerator.DrillDocument(new ArithmeticProblemGenerator(options, 4), 120);
        Assert.True(text.Length >= 120);
        Assert.DoesNotContain(ArithmeticProblem.AnswerPrefix, text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 8);
        foreach (var line in lines)
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^(\d+)([-+*/])(\d+)=(\d+)$");
            Assert.True(m.Success, line);
            var result = ArithmeticProblem.Apply(long.Parse(m.Groups[1].Value), m.Groups[2].Value[0], long.Parse(m.Groups[3].Value));
            Assert.Equal(result, long.Parse(m.Groups[4].Value));
            Assert.InRange(result, 0, 99);
        }
    }

    [Fact]
    public void Scores_have_one_value_per_step_for_a_prm_and_one_per_solution_for_an_orm()
    {
        string[] solutions = [Problem.Solution, "1+1=2\nanswer: 2\n", "garbage without newline", ""];
        var checks = solutions.Select(s => StepChecker.Check(Problem.Reference, s).Steps.Count).ToArray();
        using var prm = new StepVerifier(VerifierKind.Process, TinyBody());
        using var orm = new StepVerifier(VerifierKind.Outcome, TinyBody());
        prm.eval();
        orm.eval();
        var p = prm.Score(Problem.Prompt, solutions, Problem.Reference, batchSize: 3);
        var o = orm.Score(Problem.Prompt, solutions, Problem.Reference, batchSize: 3);
        Assert.Equal(checks, p.Select(x => x.Length));
        Assert.All(o, x => Assert.Single(x));
        Assert.All(p.SelectMany(x => x).Concat(o.SelectMany(x => x)), v => Assert.InRange(v, 0, 1));
        // Batching and padding do not change a solution's scores.
        var alone = prm.Score(Problem.Prompt, [solutions[0]], Problem.Reference);
        for (var i = 0; i < alone[0].Length; i++) Assert.Equal(alone[0][i], p[0][i], 5);
    }

    [Fact]
    public void Scores_through_the_shared_prompt_cache_equal_full_forward_scores()
    {
        string[] solutions = [Problem.Solution, "1+1=2\nanswer: 2\n", "7*3=21\n", ""];
        foreach (var kind in new[] { VerifierKind.Process, VerifierKind.Outcome })
        {
            using var verifier = new StepVerifier(kind, TinyBody(seed: 5), seed: 3);
            verifier.eval();
            var scores = verifier.Score(Problem.Prompt, solutions, Problem.Reference, batchSize: 2);
            using var noGrad = no_grad();
            for (var i = 0; i < solutions.Length; i++)
            {
                var e = VerifierExample.From(kind, Problem.Prompt, solutions[i], StepChecker.Check(Problem.Reference, solutions[i]));
                if (e.Positions.Length == 0) continue;
                var (ids, positions, _, _, _) = StepVerifier.Collate([e]);
                var full = verifier.Logits(ids, positions).sigmoid().to_type(ScalarType.Float64).data<double>().ToArray();
                Assert.Equal(full.Length, scores[i].Length);
                for (var s = 0; s < full.Length; s++) Assert.Equal(full[s], scores[i][s], 5);
            }
        }
    }

    [Fact]
    public void Greedy_samples_equal_decoding_without_a_cache()
    {
        using var model = TinyBody(seed: 6);
        model.eval();
        var sampled = SolutionGenerator.Sample(model, Problem.Prompt, 2, 0, 10, seed: 1);
        Assert.Equal(sampled[0], sampled[1]);
        // Reference: argmax of a full forward over the whole text so far, one byte at a time.
        using var noGrad = no_grad();
        var ids = ByteTokens.Encode(Problem.Prompt).ToList();
        var expected = new List<long>();
        for (var t = 0; t < 10; t++)
        {
            using var scope = NewDisposeScope();
            var next = model.Forward(tensor(ids.ToArray(), [1, ids.Count]))[0, -1].argmax().item<long>();
            expected.Add(next);
            ids.Add(next);
            var text = ByteTokens.Decode(expected);
            if (text.Split('\n').Any(l => l.Length > SolutionGenerator.MaxLineBytes) || text.Split('\n').SkipLast(1).Any(l => l.StartsWith("answer:"))) break;
        }
        Assert.Equal(ByteTokens.Decode(expected), sampled[0]);
    }

    [Fact]
    public void A_saved_verifier_loads_with_the_same_scores()
    {
        var dir = Path.Combine(Path.GetTempPath(), "farabi-verifier-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var prm = new StepVerifier(VerifierKind.Process, TinyBody(), seed: 9);
            prm.eval();
            prm.Save(dir);
            using var loaded = StepVerifier.Load(dir);
            Assert.Equal(VerifierKind.Process, loaded.Kind);
            var a = prm.Score(Problem.Prompt, [Problem.Solution], Problem.Reference)[0];
            var b = loaded.Score(Problem.Prompt, [Problem.Solution], Problem.Reference)[0];
            Assert.Equal(a, b);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Seeded_sampling_is_deterministic_and_bounded()
    {
        using var model = TinyBody(seed: 4);
        model.eval();
        var a = SolutionGenerator.Sample(model, Problem.Prompt, 3, 1.0, 12, seed: 42);
        var b = SolutionGenerator.Sample(model, Problem.Prompt, 3, 1.0, 12, seed: 42);
        var c = SolutionGenerator.Sample(model, Problem.Prompt, 3, 1.0, 12, seed: 43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(3, a.Count);
        Assert.All(a, s => Assert.True(s.Length <= 12)); // one byte decodes to at most one character
    }

    [Fact]
    public void Solution_loss_counts_only_solution_bytes()
    {
        using var model = TinyBody(seed: 2);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var loss = SolutionGenerator.SolutionLoss(model, [(Problem.Prompt, Problem.Solution)]).item<float>();
        // Manual: cross-entropy of each solution byte given everything before it.
        var ids = ByteTokens.Encode(Problem.Prompt + Problem.Solution);
        var logp = model.Forward(tensor(ids, [1, ids.Length])).log_softmax(-1);
        double sum = 0;
        for (var t = Problem.Prompt.Length; t < ids.Length; t++) sum -= logp[0, t - 1, ids[t]].item<float>();
        Assert.Equal(sum / Problem.Solution.Length, loss, 4);
    }

    [Fact]
    public void Rank_roc_auc_matches_known_cases()
    {
        Assert.Equal(1.0, VerifierEvaluation.RankRocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true]));
        Assert.Equal(0.0, VerifierEvaluation.RankRocAuc([0.9, 0.8, 0.2, 0.1], [false, false, true, true]));
        Assert.Equal(0.5, VerifierEvaluation.RankRocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true]));
        Assert.Equal(0.75, VerifierEvaluation.RankRocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]));
        Assert.True(double.IsNaN(VerifierEvaluation.RankRocAuc([0.1, 0.2], [true, true])));
        // Past 46,340 positives pos·(pos+1) no longer fits an int (a 1,024-problem best-of-64 run has 68,000 right steps).
        const int many = 70_000;
        var scores = Enumerable.Range(0, 2 * many).Select(i => (double)i).ToArray();
        var labels = Enumerable.Range(0, 2 * many).Select(i => i >= many).ToArray();
        Assert.Equal(1.0, VerifierEvaluation.RankRocAuc(scores, labels), 12);
    }

    [Fact]
    public void Held_out_roc_auc_uses_labelled_steps_and_solution_outcomes()
    {
        var lines = Problem.Solution.Split('\n');
        lines[0] = lines[0][..(lines[0].IndexOf('=') + 1)] + "999";
        // A wrong answer too: a right answer after a wrong step still counts as a solved problem.
        var answerLine = Array.FindIndex(lines, l => l.StartsWith("answer:"));
        lines[answerLine] = "answer: 999";
        var wrong = string.Join('\n', lines);
        var p = new ProblemSamples("p", "test", Problem.Statement, Problem.Answer.ToString(System.Globalization.CultureInfo.InvariantCulture), Problem.Solution, [Problem.Solution, wrong]);
        var steps = p.Checks[0].Steps.Count;
        // Right steps score 0.9 and the wrong first step 0.1; later steps of the wrong sample (masked) score 0.95,
        // which would spoil a perfect step ranking if they were counted.
        var right = SampledSolution.FromCheck("p", Problem.Solution, p.CheckReference, Enumerable.Repeat(0.9, steps).ToArray(), outcomeScore: 0.2);
        var bad = SampledSolution.FromCheck("p", wrong, p.CheckReference, [0.1, .. Enumerable.Repeat(0.95, steps - 1)], outcomeScore: 0.7);
        var (stepAuc, prmSolutionAuc, ormSolutionAuc) = BestOfNPipeline.HeldOutRocAuc([p], [[right, bad]]);
        Assert.Equal(1.0, stepAuc);
        Assert.Equal(1.0, prmSolutionAuc);   // 0.9^k > 0.1 * 0.95^(k-1)
        Assert.Equal(0.0, ormSolutionAuc);   // the ORM ranks the wrong one first
    }

    [Fact]
    public void Step_log_probabilities_add_up_to_the_solution_log_likelihood()
    {
        using var model = TinyBody(seed: 4);
        model.eval();
        var shorter = string.Join('\n', Problem.Solution.Split('\n').Skip(1)); // a wrong sample of a different length
        var logp = SolutionGenerator.StepLogProbabilities(model, Problem.Prompt, [Problem.Solution, shorter], Problem.Reference);
        foreach (var (solution, steps) in new[] { (Problem.Solution, logp[0]), (shorter, logp[1]) })
        {
            var check = StepChecker.Check(Problem.Reference, solution);
            Assert.Equal(check.Steps.Count, steps.Length);
            // Each step's mean covers its bytes and its newline: weighted by byte counts they give the whole solution's log-likelihood.
            var total = check.Steps.Select((st, k) => steps[k] * (Math.Min(st.End, solution.Length - 1) - st.Start + 1)).Sum();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var nll = SolutionGenerator.SolutionLoss(model, [(Problem.Prompt, solution)]).item<float>() * solution.Length;
            Assert.Equal(-nll, total, 2);
            Assert.All(steps, v => Assert.True(v < 0));
        }
    }

    [Fact]
    public void Samples_file_round_trips()
    {
        var path = Path.Combine(Path.GetTempPath(), "farabi-samples-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            var p = new ProblemSamples(Problem.Id, "test", Problem.Statement, Problem.Answer.ToString(), Problem.Solution, [Problem.Solution, "1+1=3\n"]);
            ProblemSamples.WriteFile(path, [p]);
            var back = Assert.Single(ProblemSamples.ReadFile(path));
            Assert.Equal(p.Samples, back.Samples);
            Assert.Equal(p.Statement, back.Statement);
            Assert.True(back.Checks[0].IsCorrect);
            Assert.False(back.Checks[1].IsCorrect);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

using Farabi.Research.ProcessSupervision;
using Xunit;

namespace Farabi.Tests.ProcessSupervision;

public sealed class ArithmeticProblemGeneratorTests
{
    [Fact]
    public void Same_seed_same_problems_other_seed_other_problems()
    {
        var a = new ArithmeticProblemGenerator(seed: 7).Generate(20);
        var b = new ArithmeticProblemGenerator(seed: 7).Generate(20);
        var c = new ArithmeticProblemGenerator(seed: 8).Generate(20);
        Assert.Equal(a.Select(p => p.Statement + p.Solution), b.Select(p => p.Statement + p.Solution));
        Assert.NotEqual(a.Select(p => p.Statement), c.Select(p => p.Statement));
        Assert.Equal(20, a.Select(p => p.Id).Distinct().Count());
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 4, 2)]
    [InlineData(5, 6, 3)]
    public void Canonical_solutions_pass_the_checker_with_the_requested_difficulty(int minSteps, int maxSteps, int digits)
    {
        var options = new ArithmeticProblemOptions { MinSteps = minSteps, MaxSteps = maxSteps, Digits = digits };
        foreach (var p in new ArithmeticProblemGenerator(options, seed: 1).Generate(200))
        {
            Assert.InRange(p.Steps.Count, minSteps, maxSteps);
            var check = StepChecker.Check(p.Reference, p.Solution);
            Assert.Equal(SolutionOutcome.Correct, check.Outcome);
            Assert.Equal(p.Steps.Count + 1, check.Steps.Count);
            // Every stated number is written in digits in the statement, within the digit budget.
            var written = StepCheckReference.NumbersIn(p.Statement);
            foreach (var g in p.Givens)
            {
                Assert.Contains((Rational)g, written);
                Assert.InRange(g, 1, (long)Math.Pow(10, digits) - 1);
            }
            Assert.All(p.StepResults, r => Assert.InRange(r, 0, options.MaxValue));
            Assert.EndsWith("?", p.Statement);
        }
    }

    [Fact]
    public void Each_step_after_the_first_uses_an_earlier_result()
    {
        foreach (var p in new ArithmeticProblemGenerator(new() { MinSteps = 3, MaxSteps = 5 }, seed: 2).Generate(100))
        {
            // The chain is connected: the final answer depends on every step.
            var used = new HashSet<int> { p.Steps.Count - 1 };
            for (var i = p.Steps.Count - 1; i >= 0; i--)
                if (used.Contains(i))
                    foreach (var q in new[] { p.Steps[i].Left, p.Steps[i].Right })
                        if (q.IsStep) used.Add(q.Index);
            Assert.Equal(p.Steps.Count, used.Count);
        }
    }

    [Theory]
    [InlineData(ArithmeticOperations.Add, '+')]
    [InlineData(ArithmeticOperations.Subtract, '-')]
    [InlineData(ArithmeticOperations.Multiply, '*')]
    [InlineData(ArithmeticOperations.Divide | ArithmeticOperations.Multiply, '/')]
    public void Operations_option_restricts_the_operators(ArithmeticOperations ops, char expected)
    {
        var problems = new ArithmeticProblemGenerator(new() { Operations = ops }, seed: 3).Generate(50);
        var used = problems.SelectMany(p => p.Steps).Select(s => s.Operator).ToHashSet();
        Assert.Contains(expected, used);
        var allowed = new HashSet<char>();
        if (ops.HasFlag(ArithmeticOperations.Add)) allowed.Add('+');
        if (ops.HasFlag(ArithmeticOperations.Subtract)) allowed.Add('-');
        if (ops.HasFlag(ArithmeticOperations.Multiply)) allowed.Add('*');
        if (ops.HasFlag(ArithmeticOperations.Divide)) allowed.Add('/');
        Assert.Subset(allowed, used);
    }

    [Fact]
    public void All_four_operations_appear_and_division_is_exact()
    {
        var problems = new ArithmeticProblemGenerator(seed: 4).Generate(300);
        var steps = problems.SelectMany(p => p.Steps.Select((s, i) => (p, s, i))).ToArray();
        Assert.Equal(new HashSet<char> { '+', '-', '*', '/' }, steps.Select(x => x.s.Operator).ToHashSet());
        // The stories cover buying, giving, sharing, selling, spending and wages.
        foreach (var phrase in new[] { "buys", "gives", "equal groups", "sells", "spends", "dollars an hour" })
            Assert.Contains(problems, p => p.Statement.Contains(phrase));
        foreach (var (p, s, i) in steps.Where(x => x.s.Operator == '/'))
        {
            long V(QuantityRef q) => q.IsStep ? p.StepResults[q.Index] : p.Givens[q.Index];
            Assert.Equal(0, V(s.Left) % V(s.Right));
        }
    }

    [Fact]
    public void Solution_format_is_one_calculation_per_line_then_the_answer()
    {
        var p = new ArithmeticProblemGenerator(seed: 5).Next();
        var lines = p.Solution.TrimEnd('\n').Split('\n');
        Assert.Equal(p.Steps.Count + 1, lines.Length);
        Assert.All(lines[..^1], l => Assert.Matches(@"^\d+[-+*/]\d+=\d+$", l));
        Assert.Equal($"answer: {p.Answer}", lines[^1]);
    }

    [Theory]
    [InlineData(0, 2, 2)]
    [InlineData(3, 2, 2)]
    [InlineData(2, 3, 0)]
    public void Impossible_options_are_rejected(int minSteps, int maxSteps, int digits) =>
        Assert.Throws<ArgumentException>(() => new ArithmeticProblemGenerator(new() { MinSteps = minSteps, MaxSteps = maxSteps, Digits = digits }));
}

public sealed class SolutionCorruptorTests
{
    [Theory]
    [InlineData(MistakeKind.ResultSlip)]
    [InlineData(MistakeKind.WrongOperation)]
    [InlineData(MistakeKind.WrongQuantity)]
    [InlineData(MistakeKind.MisreadOperand)]
    public void The_checker_finds_the_mistake_at_the_corrupted_step(MistakeKind kind)
    {
        var problems = new ArithmeticProblemGenerator(new() { MinSteps = 2, MaxSteps = 4 }, seed: 11).Generate(150);
        var corruptor = new SolutionCorruptor(seed: 3);
        var asked = 0;
        foreach (var p in problems)
        {
            var c = corruptor.Corrupt(p, kind);
            if (c.Mistake == kind) asked++;
            var check = StepChecker.Check(p.Reference, c.Text);
            Assert.Equal(c.StepIndex, check.FirstErrorStep);
            Assert.Equal(-1, check.StepLabels[c.StepIndex]);
            Assert.All(check.StepLabels.Take(c.StepIndex), l => Assert.Equal(1, l));
            Assert.All(check.StepLabels.Skip(c.StepIndex + 1), l => Assert.Equal(0, l));
            Assert.Equal(c.FinalAnswer.ToString(), check.FinalAnswer);
            Assert.Equal(c.FinalAnswer == p.Answer, check.IsCorrect);
        }
        Assert.True(asked > 100, $"only {asked} of 150 problems got a {kind}");
    }

    [Fact]
    public void Errors_are_carried_forward_with_correct_arithmetic()
    {
        var problems = new ArithmeticProblemGenerator(new() { MinSteps = 3, MaxSteps = 5 }, seed: 12).Generate(100);
        var corruptor = new SolutionCorruptor(seed: 4);
        var wrongAnswers = 0;
        foreach (var p in problems)
        {
            var c = corruptor.Corrupt(p, MistakeKind.ResultSlip);
            // Checked without grounding to the truth: every step after the slip is arithmetically right.
            var loose = new StepCheckReference(p.Givens.Select(g => (Rational)g).ToArray(), p.Answer.ToString());
            var check = StepChecker.Check(loose, c.Text);
            Assert.Equal(StepVerdict.Wrong, check.Steps[c.StepIndex].Verdict);
            Assert.All(check.Steps.Skip(c.StepIndex + 1).Where(s => !s.IsAnswerLine), s => Assert.Equal(StepVerdict.Correct, s.Verdict));
            if (c.FinalAnswer != p.Answer) wrongAnswers++;
        }
        Assert.True(wrongAnswers >= 95, $"{wrongAnswers} of 100 slips changed the answer");
    }

    [Fact]
    public void Same_seed_same_corruptions_and_all_kinds_occur()
    {
        var problems = new ArithmeticProblemGenerator(seed: 13).Generate(60);
        var a = problems.Select(p => new SolutionCorruptor(5).Corrupt(p).Text).ToArray();
        var b = problems.Select(p => new SolutionCorruptor(5).Corrupt(p).Text).ToArray();
        Assert.Equal(a, b);
        var corruptor = new SolutionCorruptor(6);
        var kinds = problems.Select(p => corruptor.Corrupt(p).Mistake).ToHashSet();
        Assert.Equal(Enum.GetValues<MistakeKind>().ToHashSet(), kinds);
        Assert.All(problems, p => Assert.NotEqual(p.Solution, new SolutionCorruptor(7).Corrupt(p).Text));
    }
}

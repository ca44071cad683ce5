using Farabi.Research.ProcessSupervision;
using Xunit;

namespace Farabi.Tests.ProcessSupervision;

public sealed class StepCheckerTests
{
    // "Ali buys 12 boxes with 7 pens in each. He gives 15 pens to Sara. How many pens ...?"
    static readonly StepCheckReference Pens = new([12, 7, 15], "69", new HashSet<Rational> { 84, 69 });

    static SolutionCheck Check(string text) => StepChecker.Check(Pens, text);

    [Fact]
    public void Canonical_solution_is_all_correct()
    {
        var c = Check("12*7=84\n84-15=69\nanswer: 69\n");
        Assert.All(c.Steps, s => Assert.Equal(StepVerdict.Correct, s.Verdict));
        Assert.Equal([1, 1, 1], c.StepLabels);
        Assert.Equal([true, true, true], c.LabelMask);
        Assert.Equal(-1, c.FirstErrorStep);
        Assert.True(c.IsCorrect);
        Assert.Equal(SolutionOutcome.Correct, c.Outcome);
        Assert.True(c.Steps[2].IsAnswerLine);
    }

    [Fact]
    public void Labels_are_masked_after_the_first_error()
    {
        // Slip in step 0, carried forward consistently: step 1 is arithmetically right but masked.
        var c = Check("12*7=85\n85-15=70\nanswer: 70\n");
        Assert.Equal(StepVerdict.Wrong, c.Steps[0].Verdict);
        Assert.Contains("is 84, not 85", c.Steps[0].Reason);
        Assert.Equal(0, c.FirstErrorStep);
        Assert.Equal([-1, 0, 0], c.StepLabels);
        Assert.Equal([true, false, false], c.LabelMask);
        Assert.Equal(SolutionOutcome.WrongAnswer, c.Outcome);
    }

    [Fact]
    public void Error_in_a_later_step_keeps_earlier_positive_labels()
    {
        var c = Check("12*7=84\n84-15=68\nanswer: 68");
        Assert.Equal([1, -1, 0], c.StepLabels);
        Assert.Equal([true, true, false], c.LabelMask);
    }

    [Fact]
    public void Right_arithmetic_on_the_wrong_operation_is_wrong()
    {
        var c = Check("12+7=19\n19-15=4\nanswer: 4");
        Assert.Equal(StepVerdict.Wrong, c.Steps[0].Verdict);
        Assert.Contains("not a quantity the problem needs", c.Steps[0].Reason);
    }

    [Fact]
    public void Numbers_from_nowhere_are_wrong_references()
    {
        var c = Check("12*7=84\n48-15=33\nanswer: 33");
        Assert.Equal(StepVerdict.Wrong, c.Steps[1].Verdict);
        Assert.Contains("uses 48", c.Steps[1].Reason);
    }

    [Fact]
    public void Without_a_reference_only_arithmetic_and_grounding_are_checked()
    {
        var loose = new StepCheckReference([12, 7, 15], "69");
        var c = StepChecker.Check(loose, "12+7=19\n19-15=4\nanswer: 4");
        Assert.Equal(StepVerdict.Correct, c.Steps[0].Verdict);
        Assert.Equal(StepVerdict.Correct, c.Steps[1].Verdict);
        Assert.Equal(StepVerdict.Wrong, c.Steps[2].Verdict);
        Assert.Equal(SolutionOutcome.WrongAnswer, c.Outcome);
    }

    [Theory]
    [InlineData("12*7\n", "no '='")]
    [InlineData("12*7=\n", "no result")]
    [InlineData("12*7=eighty\n", "not a number")]
    [InlineData("12**7=84\n", "does not parse")]
    [InlineData("12*7=84=84\n", "more than one '='")]
    [InlineData("84=84\n", "no calculation")]
    [InlineData("the pens are many\n", "no '='")]
    [InlineData("12/0=0\n", "division by zero")]
    public void Malformed_steps_say_why(string text, string reason)
    {
        var c = Check(text);
        Assert.Equal(StepVerdict.Malformed, c.Steps[0].Verdict);
        Assert.Contains(reason, c.Steps[0].Reason);
        Assert.Equal(-1, c.StepLabels[0]);
        Assert.Equal(SolutionOutcome.NoAnswer, c.Outcome);
    }

    [Fact]
    public void Truncated_output_has_no_answer_and_a_malformed_last_step()
    {
        var c = Check("12*7=84\n84-1");
        Assert.Equal([StepVerdict.Correct, StepVerdict.Malformed], c.Steps.Select(s => s.Verdict));
        Assert.Null(c.FinalAnswer);
        Assert.False(c.IsCorrect);
        Assert.Equal(SolutionOutcome.NoAnswer, c.Outcome);
    }

    [Fact]
    public void Lines_after_the_answer_are_malformed_and_the_first_answer_counts()
    {
        var c = Check("12*7=84\n84-15=69\nanswer: 69\n69+1=70\nanswer: 70\n");
        Assert.Equal("69", c.FinalAnswer);
        Assert.True(c.IsCorrect);
        Assert.Equal(StepVerdict.Malformed, c.Steps[3].Verdict);
        Assert.Equal(SolutionOutcome.RightAnswerWrongSteps, c.Outcome);
        Assert.Equal([1, 1, 1, -1, 0], c.StepLabels);
    }

    [Fact]
    public void Right_answer_with_a_wrong_step_is_flagged()
    {
        // A slip that is "repaired" by an unjustified final step.
        var c = Check("12*7=85\n85-16=69\nanswer: 69");
        Assert.True(c.IsCorrect);
        Assert.Equal(SolutionOutcome.RightAnswerWrongSteps, c.Outcome);
        Assert.Equal(0, c.FirstErrorStep);
    }

    [Fact]
    public void Right_steps_that_stop_early_give_a_wrong_answer_step()
    {
        var c = Check("12*7=84\nanswer: 84");
        Assert.Equal(StepVerdict.Correct, c.Steps[0].Verdict);
        Assert.Equal(StepVerdict.Wrong, c.Steps[1].Verdict);
        Assert.Equal([1, -1], c.StepLabels);
    }

    [Fact]
    public void Labels_spaces_blank_lines_and_other_symbols_are_tolerated()
    {
        var c = Check("\r\nStep 1: 12 × 7 = 84\r\n\r\nb = 84 - 15 = 69\r\nAnswer: 69\r\n");
        Assert.Equal(3, c.Steps.Count);
        Assert.All(c.Steps, s => Assert.Equal(StepVerdict.Correct, s.Verdict));
        Assert.True(c.IsCorrect);
    }

    [Fact]
    public void Step_offsets_point_at_each_line_and_its_separator()
    {
        const string text = "12*7=84\n  84-15=69\nanswer: 69";
        var c = Check(text);
        Assert.Equal("12*7=84", text[c.Steps[0].Start..c.Steps[0].End]);
        Assert.Equal('\n', text[c.Steps[0].End]);
        Assert.Equal("84-15=69", text[c.Steps[1].Start..c.Steps[1].End]);
        Assert.Equal(text.Length, c.Steps[2].End);
    }

    [Fact]
    public void Gsm8k_answer_line_and_allowed_constants_work()
    {
        var reference = new StepCheckReference([48], "72", AllowedConstants: new HashSet<Rational> { 2 });
        var c = StepChecker.Check(reference, "48/2=24\n48+24=72\n#### 72");
        Assert.All(c.Steps, s => Assert.Equal(StepVerdict.Correct, s.Verdict));
        var strict = StepChecker.Check(reference with { AllowedConstants = null }, "48/2=24\n48+24=72\n#### 72");
        Assert.Contains("uses 2", strict.Steps[0].Reason);
    }

    [Fact]
    public void Reference_from_text_reads_numbers_and_reference_results()
    {
        var r = StepCheckReference.FromText("Ali buys 12 boxes with 7 pens in each. He gives 15 pens to Sara.", "69", "12*7=84\n84-15=69\nanswer: 69\n");
        Assert.Equal(new Rational[] { 12, 7, 15 }, r.Givens);
        Assert.True(r.IntermediateValues!.SetEquals(new Rational[] { 84, 69 }));
        Assert.Equal(new Rational[] { 1200, Rational.ParseDecimal("3.5") }, StepCheckReference.NumbersIn("It costs 1,200 dollars, or 3.5 each."));
    }

    [Fact]
    public void Garbage_never_throws()
    {
        foreach (var text in new[] { "", "\n\n", "=", "==", "answer:", "((((", "1=1=1=1", "\u0000", "answer: answer:", "-=-", "9999999999999999999999*9=1" })
        {
            var c = Check(text);
            Assert.False(c.IsCorrect && c.Outcome == SolutionOutcome.Correct && text != "");
        }
        Assert.Equal(SolutionOutcome.NoAnswer, Check("").Outcome);
        Assert.Equal(StepVerdict.Malformed, Check("answer:").Steps[0].Verdict);
    }
}

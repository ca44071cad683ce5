using Farabi.Research.ProcessSupervision;
using Xunit;

namespace Farabi.Tests.ProcessSupervision;

public sealed class AnswerEquivalenceTests
{
    [Theory]
    [InlineData("1/2", "0.5")]
    [InlineData("0.5", ".5")]
    [InlineData("\\frac{1}{2}", "0.5")]
    [InlineData("\\dfrac{1}{2}", "1/2")]
    [InlineData("\\tfrac12", "0.5")]
    [InlineData("\\frac12", "\\frac{1}{2}")]
    [InlineData("-\\frac{3}{4}", "-0.75")]
    [InlineData("2/4", "1/2")]
    [InlineData("3.0", "3")]
    [InlineData("3.000", "3")]
    [InlineData("1,000", "1000")]
    [InlineData("1,234,567.5", "1234567.5")]
    [InlineData("-7", "−7")]
    [InlineData("-0", "0")]
    [InlineData("$42$", "42")]
    [InlineData("\\$42", "42")]
    [InlineData("42.", "42")]
    [InlineData(" 42 ", "42")]
    [InlineData("50%", "50")]
    [InlineData("50\\%", "50")]
    [InlineData("90^\\circ", "90")]
    [InlineData("x = 5", "5")]
    [InlineData("\\text{(A)}", "(A)")]
    [InlineData("\\text{ Monday }", "Monday")]
    [InlineData("\\left( 1, 2 \\right)", "(1,2)")]
    [InlineData("\\sqrt{2}", "\\sqrt{2}")]
    [InlineData("10\\text{ cm}", "10cm")]
    public void Equivalent_answers_are_equivalent(string a, string b)
    {
        Assert.True(AnswerEquivalence.AreEquivalent(a, b), $"{a} vs {b}");
        Assert.True(AnswerEquivalence.AreEquivalent(b, a), $"{b} vs {a} (symmetry)");
    }

    [Theory]
    [InlineData("50%", "0.5")]      // percent sign dropped, as the MATH grader does: 50% means 50
    [InlineData("1/3", "0.333")]    // exact decimals only
    [InlineData("0.5", "5")]
    [InlineData("-3", "3")]
    [InlineData("1,000", "1")]
    [InlineData("(1,2)", "(2,1)")]
    [InlineData("12", "1,2")]       // "1,2" is not a thousands-separated number
    [InlineData("\\sqrt{2}", "\\sqrt{3}")]
    [InlineData("A", "B")]
    public void Different_answers_are_not_equivalent(string a, string b) =>
        Assert.False(AnswerEquivalence.AreEquivalent(a, b), $"{a} vs {b}");

    [Theory]
    [InlineData(null, "1")]
    [InlineData("", "")]
    [InlineData("  ", "  ")]
    [InlineData(null, null)]
    public void Missing_answers_equal_nothing(string? a, string? b) => Assert.False(AnswerEquivalence.AreEquivalent(a, b));

    [Fact]
    public void Division_by_zero_is_text_not_a_crash()
    {
        Assert.False(AnswerEquivalence.TryGetValue("1/0", out _));
        Assert.True(AnswerEquivalence.AreEquivalent("1/0", "1/0"));
    }

    [Fact]
    public void Canonical_key_of_a_number_is_its_reduced_fraction()
    {
        Assert.Equal("num:1/2", AnswerEquivalence.CanonicalKey("\\frac{2}{4}"));
        Assert.Equal("num:-3/1", AnswerEquivalence.CanonicalKey("-3.0"));
        Assert.Equal("text:(A)", AnswerEquivalence.CanonicalKey("\\text{(A)}"));
        Assert.True(AnswerEquivalence.TryGetValue("1,000", out var v) && v == (Rational)1000);
    }
}

public sealed class AnswerExtractorTests
{
    [Fact]
    public void Answer_line_is_found_and_the_first_one_counts()
    {
        Assert.Equal("69", AnswerExtractor.FromAnswerLine("12*7=84\n84-15=69\nanswer: 69\nanswer: 70\n"));
        Assert.Equal("5", AnswerExtractor.FromAnswerLine("Answer:5"));
        Assert.Null(AnswerExtractor.FromAnswerLine("12*7=84\n"));
    }

    [Fact]
    public void Gsm8k_answer_follows_the_last_hashes_without_commas()
    {
        Assert.Equal("72", AnswerExtractor.FromGsm8k("Natalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72"));
        Assert.Equal("1000", AnswerExtractor.FromGsm8k("...\n#### 1,000\n"));
        Assert.Equal("-3", AnswerExtractor.FromGsm8k("#### -3"));
        Assert.Null(AnswerExtractor.FromGsm8k("no answer"));
    }

    [Fact]
    public void Boxed_answer_matches_nested_braces_and_takes_the_last_box()
    {
        Assert.Equal("\\frac{1}{2}", AnswerExtractor.FromBoxed("so $x = \\boxed{\\frac{1}{2}}$."));
        Assert.Equal("7", AnswerExtractor.FromBoxed("\\boxed{3} no wait \\boxed{7}"));
        Assert.Equal("5", AnswerExtractor.FromBoxed("is $\\boxed 5$"));
        Assert.Equal("(1, 2)", AnswerExtractor.FromBoxed("\\fbox{(1, 2)}"));
        Assert.Null(AnswerExtractor.FromBoxed("\\boxed{\\frac{1}{2}"));
        Assert.Null(AnswerExtractor.FromBoxed("nothing"));
    }

    [Fact]
    public void Extract_tries_each_format()
    {
        Assert.Equal("4", AnswerExtractor.Extract("2+2=4\nanswer: 4"));
        Assert.Equal("18", AnswerExtractor.Extract("#### 18"));
        Assert.Equal("\\pi", AnswerExtractor.Extract("The area is $\\boxed{\\pi}$."));
        Assert.True(AnswerEquivalence.AreEquivalent(AnswerExtractor.Extract("$\\boxed{\\dfrac{1}{2}}$"), AnswerExtractor.Extract("#### 0.5")));
    }
}

public sealed class RationalTests
{
    [Fact]
    public void Arithmetic_is_exact()
    {
        var third = new Rational(1, 3);
        Assert.Equal((Rational)1, third * 3);
        Assert.Equal(new Rational(1, 2), Rational.ParseDecimal("0.25") + Rational.ParseDecimal("0.25"));
        Assert.Equal("1/3", third.ToString());
        Assert.Equal("0.25", new Rational(1, 4).ToString());
        Assert.Equal("-2.5", new Rational(-5, 2).ToString());
        Assert.Equal("84", ((Rational)84).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("1.2.3")]
    [InlineData("1e5")]
    [InlineData("12a")]
    public void Non_numbers_do_not_parse(string s) => Assert.False(Rational.TryParseDecimal(s, out _));

    [Theory]
    [InlineData("12*7", "84")]
    [InlineData("100-50-30-15", "5")]
    [InlineData("2+3*4", "14")]
    [InlineData("(2+3)*4", "20")]
    [InlineData("12/60", "0.2")]
    [InlineData("10/3", "10/3")]
    [InlineData("-3+5", "2")]
    [InlineData("12 x 3", "36")]
    [InlineData("12 × 3 ÷ 4", "9")]
    [InlineData(".5*4", "2")]
    public void Expressions_evaluate_exactly(string expr, string value) =>
        Assert.Equal(value, ArithmeticExpression.Evaluate(expr).ToString());

    [Theory]
    [InlineData("12*", "ends after an operator")]
    [InlineData("", "empty")]
    [InlineData("(1+2", "not closed")]
    [InlineData("5/0", "division by zero")]
    [InlineData("a+1", "not a number")]
    [InlineData("3 4", "unexpected")]
    public void Bad_expressions_say_why(string expr, string reason)
    {
        Assert.False(ArithmeticExpression.TryEvaluate(expr, out _, out var error));
        Assert.Contains(reason, error);
    }
}

using System.Text.RegularExpressions;

namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// What the checker knows about a problem: the numbers its statement gives, its true answer and,
/// when a reference solution exists, the quantities a correct solution computes.
/// </summary>
/// <param name="Givens">Numbers stated in the problem; a step may use these.</param>
/// <param name="Answer">The true final answer (compared with <see cref="AnswerEquivalence"/>).</param>
/// <param name="IntermediateValues">
/// Results of the reference solution's steps. When given, a step whose arithmetic is right but whose
/// result is none of these is wrong: it computed something the problem does not need (a wrong
/// operation or a wrong quantity, done correctly). Null checks arithmetic and grounding only.
/// </param>
/// <param name="AllowedConstants">Numbers any step may use without the problem stating them (e.g. 2 for "half", 60 for minutes).</param>
public sealed partial record StepCheckReference(
    IReadOnlyList<Rational> Givens,
    string Answer,
    IReadOnlySet<Rational>? IntermediateValues = null,
    IReadOnlySet<Rational>? AllowedConstants = null)
{
    /// <summary>
    /// A reference built from text: the numbers written in <paramref name="statement"/>, the true
    /// <paramref name="answer"/>, and the step results of <paramref name="referenceSolution"/> when given.
    /// </summary>
    public static StepCheckReference FromText(string statement, string answer, string? referenceSolution = null)
    {
        HashSet<Rational>? intermediates = null;
        if (referenceSolution != null)
        {
            var check = StepChecker.Check(new StepCheckReference(NumbersIn(statement), answer), referenceSolution);
            intermediates = check.Steps.Where(s => s.StatedResult != null).Select(s => s.StatedResult!.Value).ToHashSet();
        }
        return new StepCheckReference(NumbersIn(statement), answer, intermediates);
    }

    /// <summary>The numbers written in digits in <paramref name="text"/> ("1,200" and "3.5" included; "-" before a number is not a sign).</summary>
    public static IReadOnlyList<Rational> NumbersIn(string text)
    {
        var list = new List<Rational>();
        foreach (Match m in Number().Matches(text))
        {
            var s = m.Value.Replace(",", "").TrimEnd('.');
            if (Rational.TryParseDecimal(s, out var v)) list.Add(v);
        }
        return list;
    }

    [GeneratedRegex(@"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.?\d+")]
    private static partial Regex Number();
}

/// <summary>How a step fared.</summary>
public enum StepVerdict
{
    /// <summary>Right arithmetic, only the problem's numbers or earlier results, and a needed quantity.</summary>
    Correct,
    /// <summary>A well-formed step that is wrong: bad arithmetic, an unknown number, or an unneeded result.</summary>
    Wrong,
    /// <summary>Not a step at all: no '=', no number after it, an expression that does not parse, a truncated line.</summary>
    Malformed,
}

/// <summary>One line of a checked solution.</summary>
/// <param name="Index">Position among the solution's steps (non-empty lines).</param>
/// <param name="Start">Offset of the line's first character in the solution text.</param>
/// <param name="End">
/// Offset just past the line: the position of its newline, or the text's length. A PRM reads its
/// per-step score at the token that holds this character (the step separator).
/// </param>
/// <param name="Text">The line, trimmed.</param>
/// <param name="Verdict">Correct, wrong or malformed.</param>
/// <param name="Reason">Why it is not correct (null when correct).</param>
/// <param name="StatedResult">The number after '=' (or the answer's value), when there is one.</param>
/// <param name="IsAnswerLine">True for the final answer line.</param>
public sealed record CheckedStep(int Index, int Start, int End, string Text, StepVerdict Verdict, string? Reason, Rational? StatedResult, bool IsAnswerLine)
{
    /// <summary>+1 when correct, −1 when wrong or malformed (before masking).</summary>
    public int Label => Verdict == StepVerdict.Correct ? 1 : -1;
}

/// <summary>How a whole solution fared.</summary>
public enum SolutionOutcome
{
    /// <summary>Right answer and every step correct.</summary>
    Correct,
    /// <summary>Right answer reached through at least one wrong or malformed step (what outcome supervision rewards by mistake).</summary>
    RightAnswerWrongSteps,
    /// <summary>An answer line with a wrong answer.</summary>
    WrongAnswer,
    /// <summary>No answer line (truncated or rambling output).</summary>
    NoAnswer,
}

/// <summary>
/// A checked solution: a verdict per step, the process labels a PRM trains on, and the outcome label
/// an ORM trains on.
/// </summary>
public sealed record SolutionCheck(IReadOnlyList<CheckedStep> Steps, string? FinalAnswer, bool IsCorrect)
{
    /// <summary>Index of the first wrong or malformed step, or −1 when there is none.</summary>
    public int FirstErrorStep { get; } = IndexOfFirstError(Steps);

    /// <summary>
    /// Process labels as in PRM800K / "Let's Verify Step by Step": +1 for each step before the first
    /// error, −1 for the first error, 0 (no label) after it — once a solution has gone wrong, whether a
    /// later step is "correct" is ill-defined, so those steps are not trained on.
    /// </summary>
    public IReadOnlyList<int> StepLabels => Steps.Select((s, i) => FirstErrorStep < 0 || i < FirstErrorStep ? 1 : i == FirstErrorStep ? -1 : 0).ToArray();

    /// <summary>True where <see cref="StepLabels"/> is a training target (every step up to and including the first error).</summary>
    public IReadOnlyList<bool> LabelMask => Steps.Select((_, i) => FirstErrorStep < 0 || i <= FirstErrorStep).ToArray();

    /// <summary>The outcome category (right answer with wrong steps is its own case).</summary>
    public SolutionOutcome Outcome =>
        FinalAnswer == null ? SolutionOutcome.NoAnswer
        : !IsCorrect ? SolutionOutcome.WrongAnswer
        : FirstErrorStep >= 0 ? SolutionOutcome.RightAnswerWrongSteps
        : SolutionOutcome.Correct;

    static int IndexOfFirstError(IReadOnlyList<CheckedStep> steps)
    {
        for (var i = 0; i < steps.Count; i++) if (steps[i].Verdict != StepVerdict.Correct) return i;
        return -1;
    }
}

/// <summary>
/// Labels each step of a sampled solution in the built-in format (one calculation per line such as
/// <c>12*7=84</c>, optionally after a name, <c>pens: 12*7=84</c> or <c>a = 12*7 = 84</c>; then
/// <c>answer: 84</c>). A step is correct when its arithmetic holds exactly, every number it uses is
/// one of the problem's or an earlier step's stated result, and (given a reference) its result is a
/// quantity the reference solution computes. Empty lines are skipped; the answer line is a step,
/// correct when the answer is right; lines after it are malformed.
/// </summary>
public static partial class StepChecker
{
    /// <summary>Checks <paramref name="solution"/> against <paramref name="reference"/>. Never throws on bad text.</summary>
    public static SolutionCheck Check(StepCheckReference reference, string solution)
    {
        var steps = new List<CheckedStep>();
        var known = new HashSet<Rational>(reference.Givens);
        if (reference.AllowedConstants != null) known.UnionWith(reference.AllowedConstants);
        string? finalAnswer = null;
        var answered = false;
        var offset = 0;
        foreach (var rawLine in solution.Split('\n'))
        {
            var start = offset;
            var end = offset + rawLine.Length;
            offset = end + 1;
            var line = rawLine.Trim();
            if (line.Length == 0) continue;
            // Offsets of the trimmed line within the text.
            var lead = rawLine.Length - rawLine.TrimStart().Length;
            var index = steps.Count;
            CheckedStep Step(StepVerdict v, string? why, Rational? stated = null, bool isAnswer = false) =>
                new(index, start + lead, end, line, v, why, stated, isAnswer);

            if (answered)
            {
                steps.Add(Step(StepVerdict.Malformed, "text after the answer line"));
                continue;
            }
            var answer = AnswerText(line);
            if (answer != null)
            {
                answered = true;
                finalAnswer = answer;
                var hasValue = AnswerEquivalence.TryGetValue(answer, out var value);
                if (answer.Length == 0) steps.Add(Step(StepVerdict.Malformed, "the answer line is empty", isAnswer: true));
                else if (AnswerEquivalence.AreEquivalent(answer, reference.Answer)) steps.Add(Step(StepVerdict.Correct, null, hasValue ? value : null, true));
                else steps.Add(Step(StepVerdict.Wrong, $"the answer is {reference.Answer}, not {answer}", hasValue ? value : null, true));
                continue;
            }
            steps.Add(CheckCalculation(line, reference, known, Step));
        }
        var correct = finalAnswer != null && AnswerEquivalence.AreEquivalent(finalAnswer, reference.Answer);
        return new SolutionCheck(steps, string.IsNullOrEmpty(finalAnswer) ? null : finalAnswer, correct);
    }

    static CheckedStep CheckCalculation(string line, StepCheckReference reference, HashSet<Rational> known,
        Func<StepVerdict, string?, Rational?, bool, CheckedStep> step)
    {
        var body = Label().Replace(line, "", 1);
        var parts = body.Split('=');
        // "a = 12*7 = 84": a bare name before the calculation is a label, not part of it.
        if (parts.Length == 3 && Name().IsMatch(parts[0].Trim())) parts = parts[1..];
        if (parts.Length == 1) return step(StepVerdict.Malformed, "no '=' in the step", null, false);
        if (parts.Length > 2) return step(StepVerdict.Malformed, "more than one '=' in the step", null, false);
        var resultText = parts[1].Trim().Replace(",", "");
        if (resultText.Length == 0) return step(StepVerdict.Malformed, "no result after '='", null, false);
        if (!Rational.TryParseDecimal(resultText, out var stated))
            return step(StepVerdict.Malformed, $"the result '{parts[1].Trim()}' is not a number", null, false);
        if (!ArithmeticExpression.TryEvaluate(parts[0], out var calc, out var error))
            return step(StepVerdict.Malformed, $"the calculation does not parse: {error}", stated, false);
        // The result is known from here on even if the step is wrong, so that later steps which
        // carry it forward are judged on their own arithmetic (they are masked anyway).
        var groundedBefore = new HashSet<Rational>(known);
        known.Add(stated);
        if (calc!.OperatorCount == 0) return step(StepVerdict.Malformed, "the step does no calculation", stated, false);
        if (calc.Value != stated) return step(StepVerdict.Wrong, $"{parts[0].Trim()} is {calc.Value}, not {stated}", stated, false);
        foreach (var operand in calc.Operands)
            if (!groundedBefore.Contains(operand))
                return step(StepVerdict.Wrong, $"uses {operand}, which is neither a number of the problem nor an earlier result", stated, false);
        if (reference.IntermediateValues != null && !reference.IntermediateValues.Contains(stated))
            return step(StepVerdict.Wrong, $"{stated} is not a quantity the problem needs", stated, false);
        return step(StepVerdict.Correct, null, stated, false);
    }

    /// <summary>The text after "answer:" or "####" when <paramref name="line"/> is an answer line, else null.</summary>
    static string? AnswerText(string line)
    {
        if (line.StartsWith("answer:", StringComparison.OrdinalIgnoreCase)) return line[7..].Trim();
        if (line.StartsWith("####", StringComparison.Ordinal)) return line[4..].Trim().Replace(",", "");
        return null;
    }

    [GeneratedRegex(@"^\s*[A-Za-z][A-Za-z0-9 _]*:\s*")]
    private static partial Regex Label();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z_0-9]*$")]
    private static partial Regex Name();
}

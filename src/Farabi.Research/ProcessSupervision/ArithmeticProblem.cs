using System.Globalization;
using System.Text;

namespace Farabi.Research.ProcessSupervision;

/// <summary>The four operations of the built-in task.</summary>
[Flags]
public enum ArithmeticOperations
{
    /// <summary>No operation (invalid as a generator setting).</summary>
    None = 0,
    /// <summary>Addition.</summary>
    Add = 1,
    /// <summary>Subtraction (results never go below zero).</summary>
    Subtract = 2,
    /// <summary>Multiplication.</summary>
    Multiply = 4,
    /// <summary>Exact division: the generator only divides when the quotient is a whole number.</summary>
    Divide = 8,
    /// <summary>All four.</summary>
    All = Add | Subtract | Multiply | Divide,
}

/// <summary>Where a step's operand comes from: a number stated in the problem, or an earlier step's result.</summary>
/// <param name="IsStep">True for an earlier step's result, false for a number of the problem.</param>
/// <param name="Index">Index into <see cref="ArithmeticProblem.Givens"/> or <see cref="ArithmeticProblem.Steps"/>.</param>
public readonly record struct QuantityRef(bool IsStep, int Index)
{
    /// <summary>The <paramref name="index"/>-th number stated in the problem.</summary>
    public static QuantityRef Given(int index) => new(false, index);

    /// <summary>The result of step <paramref name="index"/>.</summary>
    public static QuantityRef Step(int index) => new(true, index);
}

/// <summary>One calculation of a solution: <c>left op right</c>, whose result later steps may use.</summary>
public sealed record SolutionStep(QuantityRef Left, char Operator, QuantityRef Right);

/// <summary>
/// A generated word problem with its canonical solution. The solution has one calculation per line,
/// written as plain numbers (<c>12*7=84</c>), then <c>answer: 69</c>. Numbers rather than variable names
/// keep lines short for a small character-level model, and make every step checkable on its own: each
/// operand must be a number of the problem or an earlier result, and the arithmetic must hold.
/// </summary>
public sealed record ArithmeticProblem
{
    /// <summary>A stable identifier (seed and index), used to group samples by problem.</summary>
    public required string Id { get; init; }

    /// <summary>The word problem, ending with its question.</summary>
    public required string Statement { get; init; }

    /// <summary>The numbers the statement gives, in the order the steps refer to them.</summary>
    public required IReadOnlyList<long> Givens { get; init; }

    /// <summary>The canonical calculations, in order.</summary>
    public required IReadOnlyList<SolutionStep> Steps { get; init; }

    /// <summary>Each step's result under the canonical calculation.</summary>
    public IReadOnlyList<long> StepResults => _results ??= Evaluate(Givens, Steps);
    IReadOnlyList<long>? _results;

    /// <summary>The true answer: the last step's result.</summary>
    public long Answer => StepResults[^1];

    /// <summary>The canonical solution text: one step per line, then the answer line.</summary>
    public string Solution => Render(Givens, Steps, StepResults, Answer);

    /// <summary>
    /// What a generator model is conditioned on: the statement and a newline. The model continues with
    /// the solution lines and stops after the line that starts with <see cref="AnswerPrefix"/>.
    /// </summary>
    public string Prompt => Statement + "\n";

    /// <summary>A full training document for the generator: <see cref="Prompt"/> then <see cref="Solution"/>.</summary>
    public string TrainingText => Prompt + Solution;

    /// <summary>What the step checker needs to label samples for this problem.</summary>
    public StepCheckReference Reference => new(
        Givens.Select(g => (Rational)g).ToArray(),
        Answer.ToString(CultureInfo.InvariantCulture),
        StepResults.Select(r => (Rational)r).ToHashSet());

    /// <summary>Computes each step's result from the givens (exact integer arithmetic).</summary>
    public static long[] Evaluate(IReadOnlyList<long> givens, IReadOnlyList<SolutionStep> steps)
    {
        var results = new long[steps.Count];
        for (var i = 0; i < steps.Count; i++)
        {
            long Value(QuantityRef q) => q.IsStep ? results[q.Index] : givens[q.Index];
            results[i] = Apply(Value(steps[i].Left), steps[i].Operator, Value(steps[i].Right));
        }
        return results;
    }

    /// <summary>
    /// <c>a op b</c>; division must be exact (the caller checks), so the integer result is the true one.
    /// </summary>
    public static long Apply(long a, char op, long b) => op switch
    {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        '/' => a / b,
        _ => throw new ArgumentException($"'{op}' is not one of + - * /."),
    };

    /// <summary>The solution format: <c>12*7=84</c> per step, then <c>answer: 84</c>, lines ending in '\n'.</summary>
    public static string Render(IReadOnlyList<long> givens, IReadOnlyList<SolutionStep> steps, IReadOnlyList<long> results, long answer)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < steps.Count; i++)
        {
            long Value(QuantityRef q) => q.IsStep ? results[q.Index] : givens[q.Index];
            sb.Append(FormatStep(Value(steps[i].Left), steps[i].Operator, Value(steps[i].Right), results[i])).Append('\n');
        }
        sb.Append(AnswerPrefix).Append(answer.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    /// <summary>One step line without its newline: <c>12*7=84</c>.</summary>
    public static string FormatStep(long left, char op, long right, long result) =>
        string.Create(CultureInfo.InvariantCulture, $"{left}{op}{right}={result}");

    /// <summary>The prefix of the final answer line.</summary>
    public const string AnswerPrefix = "answer: ";
}

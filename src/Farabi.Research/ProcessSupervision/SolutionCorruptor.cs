using System.Globalization;

namespace Farabi.Research.ProcessSupervision;

/// <summary>The kinds of mistakes <see cref="SolutionCorruptor"/> makes.</summary>
public enum MistakeKind
{
    /// <summary>A slip in one result: off by one or two, off by ten, or one digit changed (12*7=85).</summary>
    ResultSlip,
    /// <summary>The wrong operation, computed correctly (12+7=19 where the story needs 12*7).</summary>
    WrongOperation,
    /// <summary>A different number of the problem or an earlier result used in place of the right one, computed correctly.</summary>
    WrongQuantity,
    /// <summary>An operand copied with a digit changed (84 written 48), computed correctly from the misread number.</summary>
    MisreadOperand,
}

/// <summary>A solution with one deliberate mistake, carried forward.</summary>
/// <param name="Problem">The problem it claims to solve.</param>
/// <param name="Text">The solution, in the same format as <see cref="ArithmeticProblem.Solution"/>.</param>
/// <param name="Mistake">What went wrong.</param>
/// <param name="StepIndex">The step that holds the mistake (the first wrong step).</param>
/// <param name="FinalAnswer">The answer the corrupted solution reaches (usually not the true one; errors sometimes cancel).</param>
public sealed record CorruptedSolution(ArithmeticProblem Problem, string Text, MistakeKind Mistake, int StepIndex, long FinalAnswer);

/// <summary>
/// Makes realistic wrong solutions for a problem, so that a generator trained on a share of them makes
/// the kinds of mistakes a verifier must learn to spot. One step goes wrong; every later step then does
/// its own arithmetic correctly on the wrong value, exactly as a person who slipped once would. That is
/// what makes process supervision matter: only the first wrong step is wrong, the final answer is
/// wrong, and an outcome-only verifier cannot tell where. Seeded: the same seed gives the same mistakes.
/// </summary>
public sealed class SolutionCorruptor(int seed = 0)
{
    static readonly MistakeKind[] Kinds = Enum.GetValues<MistakeKind>();
    static readonly char[] Operators = ['+', '-', '*', '/'];
    readonly Random _rng = new(seed);

    /// <summary>
    /// A corrupted solution of <paramref name="problem"/> with a mistake of <paramref name="kind"/>, or of
    /// a random kind when null. When the kind cannot apply (e.g. no other quantity to confuse), another
    /// kind is used; <see cref="CorruptedSolution.Mistake"/> says which.
    /// </summary>
    public CorruptedSolution Corrupt(ArithmeticProblem problem, MistakeKind? kind = null)
    {
        var first = kind ?? Kinds[_rng.Next(Kinds.Length)];
        var order = new[] { first }.Concat(Kinds.Where(k => k != first).OrderBy(_ => _rng.Next())).ToArray();
        foreach (var k in order)
            for (var attempt = 0; attempt < 40; attempt++)
                if (TryCorrupt(problem, k, out var result)) return result;
        throw new InvalidOperationException($"problem {problem.Id} admits no mistake that keeps every value a whole non-negative number.");
    }

    bool TryCorrupt(ArithmeticProblem p, MistakeKind kind, out CorruptedSolution result)
    {
        result = null!;
        var steps = p.Steps;
        var k = _rng.Next(steps.Count);
        var results = new long[steps.Count];
        var lines = new string[steps.Count];
        var truth = p.StepResults;
        for (var i = 0; i < steps.Count; i++)
        {
            long V(QuantityRef q) => q.IsStep ? results[q.Index] : p.Givens[q.Index];
            var (leftRef, op, rightRef) = (steps[i].Left, steps[i].Operator, steps[i].Right);
            long left = V(leftRef), right = V(rightRef);
            if (i == k)
            {
                switch (kind)
                {
                    case MistakeKind.ResultSlip:
                    {
                        if (!Valid(left, op, right)) return false;
                        var slipped = Slip(ArithmeticProblem.Apply(left, op, right));
                        if (slipped < 0 || slipped == truth[i]) return false;
                        results[i] = slipped;
                        lines[i] = ArithmeticProblem.FormatStep(left, op, right, slipped);
                        continue;
                    }
                    case MistakeKind.WrongOperation:
                        op = Operators[_rng.Next(Operators.Length)];
                        if (op == steps[i].Operator) return false;
                        break;
                    case MistakeKind.WrongQuantity:
                    {
                        // Any number of the problem or earlier result other than the intended operand.
                        var candidates = Enumerable.Range(0, p.Givens.Count).Select(QuantityRef.Given)
                            .Concat(Enumerable.Range(0, i).Select(QuantityRef.Step)).ToArray();
                        var replaceLeft = _rng.Next(2) == 0;
                        var original = replaceLeft ? left : right;
                        var pick = candidates[_rng.Next(candidates.Length)];
                        var value = V(pick);
                        if (value == original) return false;
                        if (replaceLeft) left = value; else right = value;
                        break;
                    }
                    case MistakeKind.MisreadOperand:
                    {
                        var replaceLeft = _rng.Next(2) == 0;
                        var misread = Slip(replaceLeft ? left : right);
                        // A misreading that lands on a real quantity would be a wrong-quantity mistake instead.
                        if (misread <= 0 || p.Givens.Contains(misread) || results.Take(i).Contains(misread)) return false;
                        if (replaceLeft) left = misread; else right = misread;
                        break;
                    }
                }
            }
            if (!Valid(left, op, right)) return false;
            results[i] = ArithmeticProblem.Apply(left, op, right);
            // A correctly computed mistake must produce a quantity the problem never needs, or it is no
            // mistake a checker (or a person) could see; "2+2" for "2*2" does not count.
            if (i == k && kind is MistakeKind.WrongOperation or MistakeKind.WrongQuantity && truth.Contains(results[i])) return false;
            if (i == k && results[i] == truth[i]) return false;
            lines[i] = ArithmeticProblem.FormatStep(left, op, right, results[i]);
        }
        var text = string.Concat(lines.Select(l => l + "\n")) + ArithmeticProblem.AnswerPrefix + results[^1].ToString(CultureInfo.InvariantCulture) + "\n";
        result = new CorruptedSolution(p, text, kind, k, results[^1]);
        return true;
    }

    /// <summary>Whole, non-negative results only: the generator's own format never shows fractions or negatives.</summary>
    static bool Valid(long a, char op, long b) => op switch
    {
        '-' => a >= b,
        '/' => b > 0 && a % b == 0,
        '*' => a <= 10_000_000 / Math.Max(1, b),
        _ => true,
    };

    /// <summary>A nearby wrong number: ±1, ±2, ±10, or one digit changed.</summary>
    long Slip(long v)
    {
        switch (_rng.Next(4))
        {
            case 0: return v + (_rng.Next(2) == 0 ? 1 : -1);
            case 1: return v + (_rng.Next(2) == 0 ? 2 : -2);
            case 2: return v + (_rng.Next(2) == 0 ? 10 : -10);
            default:
            {
                var digits = v.ToString(CultureInfo.InvariantCulture).ToCharArray();
                var at = _rng.Next(digits.Length);
                char d;
                do d = (char)('0' + _rng.Next(10)); while (d == digits[at] || (at == 0 && d == '0' && digits.Length > 1));
                digits[at] = d;
                return long.Parse(digits, provider: CultureInfo.InvariantCulture);
            }
        }
    }
}

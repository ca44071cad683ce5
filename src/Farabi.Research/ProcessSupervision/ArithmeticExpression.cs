namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// Exact evaluation of the calculations that solution steps write: decimal numbers, + − × ÷ with the
/// usual precedence, unary minus and parentheses. Accepts the symbols models and people actually type
/// (<c>*</c>, <c>x</c>, <c>×</c>, <c>/</c>, <c>÷</c>, <c>−</c>). Used by the step checker and by the GSM8K
/// calculator-note audit, so both judge arithmetic the same way.
/// </summary>
public static class ArithmeticExpression
{
    /// <summary>The numbers written in an expression, in order, as the expression states them (for grounding checks).</summary>
    public sealed record Parsed(Rational Value, IReadOnlyList<Rational> Operands, int OperatorCount);

    /// <summary>Evaluates <paramref name="text"/>; on failure returns false and a short reason.</summary>
    public static bool TryEvaluate(string text, out Parsed? result, out string? error)
    {
        var p = new Parser(text);
        try
        {
            p.SkipSpaces();
            if (p.AtEnd) throw new FormatException("the calculation is empty");
            var value = p.ParseSum();
            p.SkipSpaces();
            if (!p.AtEnd) throw new FormatException($"unexpected '{text[p.Position]}' at position {p.Position + 1}");
            result = new Parsed(value, p.Operands, p.Operators);
            error = null;
            return true;
        }
        catch (FormatException e) { result = null; error = e.Message; return false; }
        catch (DivideByZeroException) { result = null; error = "division by zero"; return false; }
    }

    /// <summary>Evaluates <paramref name="text"/>, or throws <see cref="FormatException"/> with the reason.</summary>
    public static Rational Evaluate(string text) =>
        TryEvaluate(text, out var r, out var error) ? r!.Value : throw new FormatException($"'{text}': {error}.");

    sealed class Parser(string text)
    {
        public int Position;
        public readonly List<Rational> Operands = [];
        public int Operators;

        public bool AtEnd => Position >= text.Length;

        public void SkipSpaces()
        {
            while (!AtEnd && char.IsWhiteSpace(text[Position])) Position++;
        }

        char? Peek()
        {
            SkipSpaces();
            return AtEnd ? null : text[Position];
        }

        public Rational ParseSum()
        {
            var value = ParseProduct();
            while (Peek() is '+' or '-' or '−')
            {
                var op = text[Position++];
                Operators++;
                var right = ParseProduct();
                value = op == '+' ? value + right : value - right;
            }
            return value;
        }

        Rational ParseProduct()
        {
            var value = ParseUnary();
            while (Peek() is '*' or '/' or 'x' or 'X' or '×' or '÷')
            {
                var op = text[Position++];
                Operators++;
                var right = ParseUnary();
                if (op is '/' or '÷')
                {
                    if (right.Numerator.IsZero) throw new DivideByZeroException();
                    value /= right;
                }
                else value *= right;
            }
            return value;
        }

        Rational ParseUnary()
        {
            var c = Peek();
            if (c is '-' or '−') { Position++; return -ParseUnary(); }
            if (c == '+') { Position++; return ParseUnary(); }
            if (c == '(')
            {
                Position++;
                var inner = ParseSum();
                if (Peek() != ')') throw new FormatException("a '(' is not closed");
                Position++;
                return inner;
            }
            if (c is null) throw new FormatException("the calculation ends after an operator");
            return ParseNumber();
        }

        Rational ParseNumber()
        {
            var start = Position;
            while (!AtEnd && (char.IsAsciiDigit(text[Position]) || text[Position] == '.')) Position++;
            if (start == Position) throw new FormatException($"'{text[start]}' is not a number or operator");
            if (!Rational.TryParseDecimal(text.AsSpan(start, Position - start), out var v))
                throw new FormatException($"'{text[start..Position]}' is not a number");
            Operands.Add(v);
            return v;
        }
    }
}

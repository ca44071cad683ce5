using System.Globalization;
using System.Numerics;

namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// An exact fraction. Step checking must be exact: with <c>double</c> or <c>decimal</c>, 1/3*3 is not 1,
/// and a checker that needs a tolerance would pass slips such as 84.5 for 84. Always reduced, with a
/// positive denominator, so equal values have equal fields.
/// </summary>
public readonly record struct Rational
{
    /// <summary>The numerator (carries the sign).</summary>
    public BigInteger Numerator { get; }

    /// <summary>The denominator, always positive.</summary>
    public BigInteger Denominator { get; }

    /// <summary>A reduced fraction numerator/denominator.</summary>
    public Rational(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero) throw new DivideByZeroException("a fraction's denominator is zero.");
        if (denominator.Sign < 0) { numerator = -numerator; denominator = -denominator; }
        var g = BigInteger.GreatestCommonDivisor(numerator, denominator);
        if (!g.IsOne && !g.IsZero) { numerator /= g; denominator /= g; }
        Numerator = numerator;
        Denominator = numerator.IsZero ? BigInteger.One : denominator;
    }

    /// <summary>The integer <paramref name="value"/>.</summary>
    public static implicit operator Rational(long value) => new(value, BigInteger.One);

    public static Rational operator +(Rational a, Rational b) => new(a.Numerator * b.Denominator + b.Numerator * a.Denominator, a.Denominator * b.Denominator);
    public static Rational operator -(Rational a, Rational b) => new(a.Numerator * b.Denominator - b.Numerator * a.Denominator, a.Denominator * b.Denominator);
    public static Rational operator *(Rational a, Rational b) => new(a.Numerator * b.Numerator, a.Denominator * b.Denominator);
    public static Rational operator /(Rational a, Rational b) => new(a.Numerator * b.Denominator, a.Denominator * b.Numerator);
    public static Rational operator -(Rational a) => new(-a.Numerator, a.Denominator);

    /// <summary>True when the value is a whole number.</summary>
    public bool IsInteger => Denominator.IsOne;

    /// <summary>The nearest double (for scores and plots, never for checking).</summary>
    public double ToDouble() => (double)Numerator / (double)Denominator;

    /// <summary>
    /// Parses a plain decimal number: optional sign, digits, optional fraction part (".5", "3.", "0.25",
    /// "-12"). No thousands separators, exponents or spaces: callers normalise first.
    /// </summary>
    public static bool TryParseDecimal(ReadOnlySpan<char> s, out Rational value)
    {
        value = default;
        if (s.IsEmpty) return false;
        var negative = false;
        if (s[0] is '-' or '+') { negative = s[0] == '-'; s = s[1..]; }
        if (s.IsEmpty) return false;
        BigInteger numerator = BigInteger.Zero, denominator = BigInteger.One;
        bool seenDot = false, seenDigit = false;
        foreach (var c in s)
        {
            if (c == '.' && !seenDot) { seenDot = true; continue; }
            if (c is < '0' or > '9') return false;
            seenDigit = true;
            numerator = numerator * 10 + (c - '0');
            if (seenDot) denominator *= 10;
        }
        if (!seenDigit) return false;
        value = new Rational(negative ? -numerator : numerator, denominator);
        return true;
    }

    /// <summary>Parses a decimal number, or throws <see cref="FormatException"/>.</summary>
    public static Rational ParseDecimal(string s) =>
        TryParseDecimal(s, out var v) ? v : throw new FormatException($"'{s}' is not a decimal number.");

    /// <summary>
    /// The shortest exact decimal text when the value has one (denominator of 2s and 5s only),
    /// else "numerator/denominator": 84, -3, 0.25, 1/3.
    /// </summary>
    public override string ToString()
    {
        if (IsInteger) return Numerator.ToString(CultureInfo.InvariantCulture);
        var d = Denominator;
        int twos = 0, fives = 0;
        while ((d % 2).IsZero) { d /= 2; twos++; }
        while ((d % 5).IsZero) { d /= 5; fives++; }
        if (!d.IsOne) return $"{Numerator.ToString(CultureInfo.InvariantCulture)}/{Denominator.ToString(CultureInfo.InvariantCulture)}";
        var places = Math.Max(twos, fives);
        var scaled = BigInteger.Abs(Numerator) * BigInteger.Pow(10, places) / Denominator;
        var digits = scaled.ToString(CultureInfo.InvariantCulture).PadLeft(places + 1, '0');
        var text = digits[..^places] + "." + digits[^places..];
        return Numerator.Sign < 0 ? "-" + text : text;
    }
}

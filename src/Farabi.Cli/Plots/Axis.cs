using System.Globalization;

namespace Farabi.Cli.Plots;

/// <summary>
/// One axis: a data range on a linear or logarithmic scale, "nice" tick positions (1, 2, 5 x 10^k for
/// linear axes, powers of the base for logarithmic ones) and their labels.
/// </summary>
internal sealed class Axis
{
    public AxisScale Scale { get; }

    /// <summary>Range in transformed units (log2/log10 of the data for logarithmic axes).</summary>
    public double Low { get; private set; }
    public double High { get; private set; }

    public Axis(AxisScale scale, IEnumerable<double> values, bool includeZero = false, double padFraction = 0.05)
    {
        Scale = scale;
        var data = values.Where(double.IsFinite).ToList();
        if (scale != AxisScale.Linear)
        {
            var bad = data.FirstOrDefault(v => v <= 0, 1);
            if (bad <= 0) throw new ArgumentException($"a {scale} axis needs positive values, not {bad.ToString(CultureInfo.InvariantCulture)}.");
        }
        var t = data.Select(Transform).ToList();
        if (includeZero && scale == AxisScale.Linear) t.Add(0);
        double lo = t.Count == 0 ? 0 : t.Min(), hi = t.Count == 0 ? 1 : t.Max();
        if (hi - lo < 1e-12)
        {
            // A flat series still gets a visible range around it.
            var half = scale == AxisScale.Linear ? Math.Max(Math.Abs(lo) * 0.1, 0.5) : 0.5;
            lo -= half; hi += half;
        }
        var pad = (hi - lo) * padFraction;
        // Bars start at zero: do not pad below a zero baseline.
        Low = includeZero && lo == 0 ? 0 : lo - pad;
        High = includeZero && hi == 0 ? 0 : hi + pad;
    }

    public double Transform(double v) => Scale switch
    {
        AxisScale.Log2 => Math.Log2(v),
        AxisScale.Log10 => Math.Log10(v),
        _ => v,
    };

    /// <summary>Fraction 0..1 along the axis of data value <paramref name="v"/>.</summary>
    public double Fraction(double v) => (Transform(v) - Low) / (High - Low);

    /// <summary>Tick positions in data units with their labels.</summary>
    public IReadOnlyList<(double Value, string Label)> Ticks()
    {
        var ticks = new List<(double, string)>();
        if (Scale == AxisScale.Linear)
        {
            var step = NiceStep((High - Low) / 6);
            for (var v = Math.Ceiling(Low / step) * step; v <= High + step * 1e-9; v += step)
            {
                var r = Math.Abs(v) < step * 1e-9 ? 0 : v;
                ticks.Add((r, FormatLinear(r, step)));
            }
            return ticks;
        }
        // Logarithmic: one tick per power of the base, thinned to at most ~8 labels.
        int first = (int)Math.Ceiling(Low - 1e-9), last = (int)Math.Floor(High + 1e-9);
        var every = Math.Max(1, (int)Math.Ceiling((last - first + 1) / 8.0));
        var b = Scale == AxisScale.Log2 ? 2.0 : 10.0;
        for (var k = first; k <= last; k++)
            if ((k - first) % every == 0) ticks.Add((Math.Pow(b, k), FormatCount(Math.Pow(b, k))));
        if (ticks.Count < 2)
        {
            // Less than one decade/octave: fall back to linear-looking ticks at the ends.
            ticks.Clear();
            ticks.Add((Math.Pow(b, Low), FormatCount(Math.Pow(b, Low))));
            ticks.Add((Math.Pow(b, High), FormatCount(Math.Pow(b, High))));
        }
        return ticks;
    }

    static double NiceStep(double rough)
    {
        if (rough <= 0 || !double.IsFinite(rough)) return 1;
        var mag = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var f = rough / mag;
        return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
    }

    static string FormatLinear(double v, double step)
    {
        var decimals = Math.Max(0, (int)Math.Ceiling(-Math.Log10(step) + 1e-9));
        return v.ToString("F" + Math.Min(decimals, 6), CultureInfo.InvariantCulture);
    }

    /// <summary>Compact labels for counts: 512, 1k, 2k, 1M, 1.5G; fractions as decimals.</summary>
    internal static string FormatCount(double v)
    {
        string F(double x) => x.ToString(x >= 100 || x == Math.Round(x) ? "0" : "0.#", CultureInfo.InvariantCulture);
        var a = Math.Abs(v);
        if (a >= 1e9) return F(v / 1e9) + "G";
        if (a >= 1e6) return F(v / 1e6) + "M";
        if (a >= 1e4 || (a >= 1e3 && v % 1000 == 0)) return F(v / 1e3) + "k";
        if (a >= 1 || a == 0) return v.ToString("0.##", CultureInfo.InvariantCulture);
        return v.ToString("0.####", CultureInfo.InvariantCulture);
    }
}

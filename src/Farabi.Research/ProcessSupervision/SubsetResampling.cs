using System.Text.Json.Nodes;

namespace Farabi.Research.ProcessSupervision;

/// <summary>Settings of the subset-resampling estimator.</summary>
public sealed record SubsetResamplingOptions
{
    /// <summary>Random subsets drawn per N (each draw covers every problem).</summary>
    public int Resamples { get; init; } = 200;

    /// <summary>Seed of the subset draws.</summary>
    public int Seed { get; init; }

    /// <summary>The N values; null means 1, 2, 4, … up to the smallest per-problem sample count (and that count itself).</summary>
    public IReadOnlyList<int>? Ns { get; init; }
}

/// <summary>One method's curve: % of problems solved against N, with a 95% interval.</summary>
/// <param name="Method">The method's name (e.g. prm_prod).</param>
/// <param name="N">The numbers of samples selected among.</param>
/// <param name="PercentSolved">Mean % solved over the resamples, one per N.</param>
/// <param name="Lower">2.5th percentile of % solved over the resamples.</param>
/// <param name="Upper">97.5th percentile of % solved over the resamples.</param>
public sealed record SelectionCurve(string Method, IReadOnlyList<int> N, IReadOnlyList<double> PercentSolved, IReadOnlyList<double> Lower, IReadOnlyList<double> Upper)
{
    /// <summary>
    /// Per N, per problem (in input order), the share of resamples in which the method's selection was right
    /// (null when the curve was not made by <see cref="SubsetResampling.Curves"/>). <see cref="PercentSolved"/>
    /// is 100 × its mean over problems; <see cref="SubsetResampling.PairedDifference"/> resamples problems from it.
    /// </summary>
    public IReadOnlyList<double[]>? PerProblem { get; init; }
}

/// <summary>A difference of two methods' % solved at one N (percentage points) with a 95% bootstrap interval over problems.</summary>
public sealed record PairedDifference(string Better, string Worse, int N, double Difference, double Lower, double Upper);

/// <summary>
/// The estimator behind "Let's Verify Step by Step", Figure 3: with N_max samples per problem, the
/// % solved when a method selects among N of them is averaged over many random N-subsets, so one set
/// of samples gives a whole curve without sampling again for each N.
/// <para>
/// Each resample draws, for every problem, a uniformly random subset of N of its samples (without
/// replacement, kept in their original order so that ties break the same way as on the full list)
/// and applies every method to the same subsets, so differences between methods are not drawing
/// noise. The % solved of a resample is the share of problems whose selected sample is correct; the
/// curve is the mean over resamples. The interval is the percentile interval (2.5th and 97.5th) of
/// the resamples' values: it shows the spread due to which samples were drawn, with the problem set
/// held fixed (it does not include the uncertainty of drawing problems). At N = N_max every subset is
/// the full list and the interval has zero width.
/// </para>
/// </summary>
public static class SubsetResampling
{
    /// <summary>1, 2, 4, … ≤ <paramref name="nMax"/>, then <paramref name="nMax"/> itself when it is not a power of two.</summary>
    public static IReadOnlyList<int> PowersOfTwo(int nMax)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nMax, 1);
        var ns = new List<int>();
        for (var n = 1; n <= nMax; n *= 2) ns.Add(n);
        if (ns[^1] != nMax) ns.Add(nMax);
        return ns;
    }

    /// <summary>
    /// Every method's curve from the per-problem sample lists. Throws <see cref="ArgumentException"/> when
    /// there are no problems, a problem has no samples, or an N exceeds a problem's sample count.
    /// </summary>
    public static IReadOnlyList<SelectionCurve> Curves(
        IReadOnlyList<IReadOnlyList<SampledSolution>> samplesPerProblem,
        IReadOnlyList<(string Name, SolutionSelector Selector)> methods,
        SubsetResamplingOptions? options = null)
    {
        options ??= new SubsetResamplingOptions();
        if (samplesPerProblem.Count == 0) throw new ArgumentException("there are no problems to select samples for.");
        if (methods.Count == 0) throw new ArgumentException("there are no selection methods.");
        if (options.Resamples < 1) throw new ArgumentException($"Resamples must be at least 1, not {options.Resamples}.");
        var smallest = samplesPerProblem.Min(s => s.Count);
        if (smallest == 0)
        {
            var empty = samplesPerProblem.Select((s, i) => (s, i)).First(x => x.s.Count == 0).i;
            throw new ArgumentException($"problem {empty} (0-based) has no samples.");
        }
        var ns = options.Ns ?? PowersOfTwo(smallest);
        foreach (var n in ns)
            if (n < 1 || n > smallest) throw new ArgumentException($"N = {n} is outside 1..{smallest}, the fewest samples any problem has.");

        var means = new double[methods.Count][];
        var lowers = new double[methods.Count][];
        var uppers = new double[methods.Count][];
        var perProblem = new double[methods.Count][][];
        for (var m = 0; m < methods.Count; m++)
        {
            means[m] = new double[ns.Count]; lowers[m] = new double[ns.Count]; uppers[m] = new double[ns.Count];
            perProblem[m] = ns.Select(_ => new double[samplesPerProblem.Count]).ToArray();
        }

        for (var j = 0; j < ns.Count; j++)
        {
            var n = ns[j];
            // One stream per N, so a curve's point does not change when other Ns are added.
            var rng = new Random(unchecked(options.Seed * 1_000_003 + n));
            var solved = new double[methods.Count][];
            for (var m = 0; m < methods.Count; m++) solved[m] = new double[options.Resamples];
            var subset = new List<SampledSolution>(n);
            var indices = new int[samplesPerProblem.Max(s => s.Count)];
            for (var r = 0; r < options.Resamples; r++)
            {
                var counts = new int[methods.Count];
                for (var p = 0; p < samplesPerProblem.Count; p++)
                {
                    DrawSubset(samplesPerProblem[p], n, rng, indices, subset);
                    for (var m = 0; m < methods.Count; m++)
                        if (methods[m].Selector(subset)?.IsCorrect == true)
                        {
                            counts[m]++;
                            perProblem[m][j][p] += 1.0 / options.Resamples;
                        }
                }
                for (var m = 0; m < methods.Count; m++) solved[m][r] = 100.0 * counts[m] / samplesPerProblem.Count;
            }
            for (var m = 0; m < methods.Count; m++)
            {
                means[m][j] = solved[m].Average();
                Array.Sort(solved[m]);
                lowers[m][j] = Percentile(solved[m], 0.025);
                uppers[m][j] = Percentile(solved[m], 0.975);
            }
        }
        return methods.Select((method, m) => new SelectionCurve(method.Name, ns.ToArray(), means[m], lowers[m], uppers[m]) { PerProblem = perProblem[m] }).ToArray();
    }

    /// <summary>
    /// How far <paramref name="better"/> is ahead of <paramref name="worse"/> at the <paramref name="nIndex"/>-th N,
    /// in percentage points, with a 95% percentile interval from <paramref name="bootstraps"/> resamples of the
    /// problems (with replacement; both methods keep their pairing on each problem). Unlike the curves' own
    /// interval, which holds the problems fixed, this one asks whether the ordering would survive another
    /// draw of problems. Both curves must come from one <see cref="Curves"/> call.
    /// </summary>
    public static PairedDifference PairedDifference(SelectionCurve better, SelectionCurve worse, int nIndex, int bootstraps = 2000, int seed = 0)
    {
        if (better.PerProblem is not { } a || worse.PerProblem is not { } b)
            throw new ArgumentException("paired differences need curves made by SubsetResampling.Curves (per-problem results).");
        if (a[nIndex].Length != b[nIndex].Length || !better.N.SequenceEqual(worse.N))
            throw new ArgumentException($"{better.Method} and {worse.Method} were not measured on the same problems and N.");
        ArgumentOutOfRangeException.ThrowIfLessThan(bootstraps, 1);
        var d = a[nIndex].Zip(b[nIndex], (x, y) => 100 * (x - y)).ToArray();
        var rng = new Random(seed);
        var means = new double[bootstraps];
        for (var r = 0; r < bootstraps; r++)
        {
            var sum = 0.0;
            for (var i = 0; i < d.Length; i++) sum += d[rng.Next(d.Length)];
            means[r] = sum / d.Length;
        }
        Array.Sort(means);
        return new PairedDifference(better.Method, worse.Method, better.N[nIndex], d.Average(), Percentile(means, 0.025), Percentile(means, 0.975));
    }

    /// <summary>
    /// The curves as <c>results.json</c> expects them: <c>n</c> (list), one list of % solved per method
    /// under its name, and <c>interval95</c> with each method's <c>lower</c> and <c>upper</c> lists.
    /// </summary>
    public static JsonObject ToResultsJson(IReadOnlyList<SelectionCurve> curves)
    {
        if (curves.Count == 0) throw new ArgumentException("there are no curves.");
        var json = new JsonObject { ["n"] = new JsonArray(curves[0].N.Select(n => (JsonNode)n).ToArray()) };
        var intervals = new JsonObject();
        foreach (var c in curves)
        {
            json[c.Method] = new JsonArray(c.PercentSolved.Select(v => (JsonNode)Math.Round(v, 3)).ToArray());
            intervals[c.Method] = new JsonObject
            {
                ["lower"] = new JsonArray(c.Lower.Select(v => (JsonNode)Math.Round(v, 3)).ToArray()),
                ["upper"] = new JsonArray(c.Upper.Select(v => (JsonNode)Math.Round(v, 3)).ToArray()),
            };
        }
        json["interval95"] = intervals;
        return json;
    }

    /// <summary>A uniform random n-subset of <paramref name="samples"/> in original order (partial Fisher–Yates over indices).</summary>
    static void DrawSubset(IReadOnlyList<SampledSolution> samples, int n, Random rng, int[] idx, List<SampledSolution> subset)
    {
        subset.Clear();
        if (n == samples.Count) { subset.AddRange(samples); return; }
        var count = samples.Count;
        for (var i = 0; i < count; i++) idx[i] = i;
        for (var i = 0; i < n; i++)
        {
            var k = rng.Next(i, count);
            (idx[i], idx[k]) = (idx[k], idx[i]);
        }
        Array.Sort(idx, 0, n);
        for (var i = 0; i < n; i++) subset.Add(samples[idx[i]]);
    }

    /// <summary>Linear-interpolation percentile of sorted values (q in [0, 1]).</summary>
    internal static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 1) return sorted[0];
        var pos = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

using System.Globalization;

namespace Farabi.Research.ProcessSupervision;

/// <summary>Difficulty and content of the built-in word problems.</summary>
public sealed record ArithmeticProblemOptions
{
    /// <summary>Fewest calculations in a solution (at least 1).</summary>
    public int MinSteps { get; init; } = 2;

    /// <summary>Most calculations in a solution; each problem draws its count uniformly in [MinSteps, MaxSteps].</summary>
    public int MaxSteps { get; init; } = 4;

    /// <summary>
    /// Digits of the amounts the story states (starting amounts, amounts given or taken): 2 means 1..99.
    /// </summary>
    public int Digits { get; init; } = 2;

    /// <summary>
    /// Largest multiplier or divisor (pack sizes, "n times as many", equal groups). Kept separate from
    /// <see cref="Digits"/> so that products stay readable; it is capped by 10^Digits − 1 as well.
    /// </summary>
    public int MaxFactor { get; init; } = 9;

    /// <summary>Largest value any step may produce; events that would exceed it are not drawn.</summary>
    public long MaxValue { get; init; } = 99_999;

    /// <summary>Operations the solutions may use.</summary>
    public ArithmeticOperations Operations { get; init; } = ArithmeticOperations.All;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first impossible setting.</summary>
    public void Validate()
    {
        if (MinSteps < 1) throw new ArgumentException($"MinSteps must be at least 1, not {MinSteps}.");
        if (MaxSteps < MinSteps) throw new ArgumentException($"MaxSteps ({MaxSteps}) must be at least MinSteps ({MinSteps}).");
        if (MaxSteps > 32) throw new ArgumentException($"MaxSteps must be at most 32, not {MaxSteps}.");
        if (Digits is < 1 or > 6) throw new ArgumentException($"Digits must be between 1 and 6, not {Digits}.");
        if (MaxFactor < 2) throw new ArgumentException($"MaxFactor must be at least 2, not {MaxFactor}.");
        if ((Operations & ArithmeticOperations.All) == 0) throw new ArgumentException("Operations must include at least one of + - * /.");
        if (MaxValue < 10) throw new ArgumentException($"MaxValue must be at least 10, not {MaxValue}.");
    }
}

/// <summary>
/// Seeded generator of multi-step arithmetic word problems (the built-in task of process supervision:
/// every sampled solution can be checked exactly, so true step labels come for free). A story follows
/// one person's amount of something through events (buying packs, receiving, giving away, sharing,
/// selling at a price, spending, earning an hourly wage); each event is one or two calculations whose results later events use, and the
/// question asks for the final amount. Every number is written in digits so the checker can find it.
/// The same seed and options give the same problems.
/// </summary>
public sealed class ArithmeticProblemGenerator
{
    static readonly string[] Names = ["Ali", "Sara", "Omid", "Lena", "Maya", "Reza", "Noah", "Zara", "Hugo", "Nina", "Kian", "Ella", "Leo", "Mina", "Sam", "Tara"];
    static readonly string[] Items = ["apples", "pens", "stickers", "marbles", "cards", "books", "shells", "cookies", "beads", "stamps", "eggs", "candles", "pencils", "balloons"];
    static readonly string[] Containers = ["packs", "bags", "boxes", "jars", "crates"];
    static readonly string[] Goods = ["toys", "notebooks", "plants", "kites", "puzzles", "mugs"];
    static readonly string[] Then = ["Then", "Later", "After that", "Next"];

    readonly ArithmeticProblemOptions _options;
    readonly Random _rng;
    readonly int _seed;
    int _count;

    /// <summary>A generator whose problems depend only on <paramref name="options"/> and <paramref name="seed"/>.</summary>
    public ArithmeticProblemGenerator(ArithmeticProblemOptions? options = null, int seed = 0)
    {
        _options = options ?? new ArithmeticProblemOptions();
        _options.Validate();
        _seed = seed;
        _rng = new Random(seed);
    }

    /// <summary>The next <paramref name="count"/> problems.</summary>
    public IReadOnlyList<ArithmeticProblem> Generate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var list = new List<ArithmeticProblem>(count);
        for (var i = 0; i < count; i++) list.Add(Next());
        return list;
    }

    /// <summary>The next problem.</summary>
    public ArithmeticProblem Next()
    {
        var steps = _rng.Next(_options.MinSteps, _options.MaxSteps + 1);
        // A story can dead-end (e.g. only division allowed and the amount is prime); drawing again is
        // simpler than planning, and with mixed operations it almost never happens.
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var story = new Story(this, steps);
            if (story.TryWrite(out var problem)) return problem;
        }
        throw new ArgumentException($"no problem with {steps} steps can be drawn with operations {_options.Operations} and MaxValue {_options.MaxValue}.");
    }

    bool Allows(ArithmeticOperations op) => (_options.Operations & op) != 0;
    long Amount() => _rng.NextInt64(1, (long)Math.Pow(10, _options.Digits));
    long Factor() => _rng.Next(2, (int)Math.Min(_options.MaxFactor, Math.Pow(10, _options.Digits) - 1) + 1);
    string Pick(string[] xs) => xs[_rng.Next(xs.Length)];

    /// <summary>One problem being written: the amount so far, its unit, and the calculations.</summary>
    sealed class Story(ArithmeticProblemGenerator g, int targetSteps)
    {
        readonly List<long> _givens = [];
        readonly List<SolutionStep> _steps = [];
        readonly List<long> _results = [];
        readonly List<string> _sentences = [];
        readonly string _person = g.Pick(Names);
        string _unit = g.Pick(Items);
        QuantityRef _current;
        long _value;

        int Remaining => targetSteps - _steps.Count;
        string Other() { string n; do n = g.Pick(Names); while (n == _person); return n; }

        QuantityRef Give(long v) { _givens.Add(v); return QuantityRef.Given(_givens.Count - 1); }

        QuantityRef Calc(QuantityRef a, char op, QuantityRef b)
        {
            long V(QuantityRef q) => q.IsStep ? _results[q.Index] : _givens[q.Index];
            _steps.Add(new SolutionStep(a, op, b));
            _results.Add(ArithmeticProblem.Apply(V(a), op, V(b)));
            return QuantityRef.Step(_steps.Count - 1);
        }

        void SetCurrent(QuantityRef q) { _current = q; _value = q.IsStep ? _results[q.Index] : _givens[q.Index]; }

        static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

        public bool TryWrite(out ArithmeticProblem problem)
        {
            problem = null!;
            Start();
            var guard = 0;
            while (Remaining > 0)
            {
                if (++guard > 100 || !TryEvent()) return false;
            }
            var question = _unit == "dollars"
                ? $"How many dollars does {_person} have now?"
                : $"How many {_unit} does {_person} have now?";
            problem = new ArithmeticProblem
            {
                Id = string.Create(CultureInfo.InvariantCulture, $"arith-{g._seed}-{g._count++}"),
                Statement = string.Join(" ", _sentences) + " " + question,
                Givens = _givens.ToArray(),
                Steps = _steps.ToArray(),
            };
            return true;
        }

        void Start()
        {
            // Opening with a calculation uses a step; opening with a plain amount leaves all steps to events.
            var r = g._rng.Next(3);
            if (r == 1 && g.Allows(ArithmeticOperations.Multiply))
            {
                var packs = g.Factor();
                var each = g.Factor();
                var container = g.Pick(Containers);
                _sentences.Add($"{_person} buys {S(packs)} {container} of {_unit} with {S(each)} {_unit} in each.");
                SetCurrent(Calc(Give(packs), '*', Give(each)));
            }
            else if (r == 2 && g.Allows(ArithmeticOperations.Add))
            {
                var a = g.Amount();
                var b = g.Amount();
                _sentences.Add($"{_person} has {S(a)} {_unit} and finds {S(b)} more.");
                SetCurrent(Calc(Give(a), '+', Give(b)));
            }
            else
            {
                var a = g.Amount();
                if (!g.Allows(ArithmeticOperations.Add) && !g.Allows(ArithmeticOperations.Subtract))
                    a = g.Factor() * g.Factor(); // keeps multiplicative-only stories divisible
                _sentences.Add($"{_person} has {S(a)} {_unit}.");
                SetCurrent(Give(a));
            }
        }

        bool TryEvent()
        {
            var kinds = new List<Func<bool>>();
            if (g.Allows(ArithmeticOperations.Add)) kinds.Add(Receive);
            if (g.Allows(ArithmeticOperations.Subtract)) kinds.Add(GiveAway);
            if (g.Allows(ArithmeticOperations.Multiply)) kinds.Add(Multiply);
            if (g.Allows(ArithmeticOperations.Multiply) && _unit != "dollars") kinds.Add(Sell);
            if (g.Allows(ArithmeticOperations.Divide)) kinds.Add(_unit == "dollars" ? Spend : Share);
            if (Remaining >= 2 && g.Allows(ArithmeticOperations.Multiply))
            {
                if (g.Allows(ArithmeticOperations.Add)) kinds.Add(ReceivePacks);
                if (g.Allows(ArithmeticOperations.Subtract)) kinds.Add(GiveToEach);
                if (g.Allows(ArithmeticOperations.Add) && _unit == "dollars") kinds.Add(EarnWage);
            }
            // Try the kinds in a random order; some cannot apply (nothing divides the amount).
            foreach (var kind in kinds.OrderBy(_ => g._rng.Next()).ToArray())
                if (kind()) return true;
            return false;
        }

        bool Fits(long v) => v >= 0 && v <= g._options.MaxValue;

        bool Receive()
        {
            var n = g.Amount();
            if (!Fits(_value + n)) return false;
            _sentences.Add($"{g.Pick(Then)} {Other()} gives {_person} {S(n)} more {_unit}.");
            SetCurrent(Calc(_current, '+', Give(n)));
            return true;
        }

        bool GiveAway()
        {
            if (_value < 2) return false;
            var n = g._rng.NextInt64(1, Math.Min(_value, (long)Math.Pow(10, g._options.Digits)));
            _sentences.Add($"{_person} gives {S(n)} {_unit} to {Other()}.");
            SetCurrent(Calc(_current, '-', Give(n)));
            return true;
        }

        bool Multiply()
        {
            var n = g.Factor();
            if (!Fits(_value * n)) return false;
            _sentences.Add($"{g.Pick(Then)} {_person} ends up with {S(n)} times as many {_unit} as before.");
            SetCurrent(Calc(_current, '*', Give(n)));
            return true;
        }

        bool Sell()
        {
            var n = g.Factor();
            if (!Fits(_value * n)) return false;
            _sentences.Add($"{_person} sells all the {_unit} for {S(n)} dollars each.");
            _unit = "dollars";
            SetCurrent(Calc(_current, '*', Give(n)));
            return true;
        }

        bool Share()
        {
            var n = Divisor();
            if (n == 0) return false;
            _sentences.Add($"{_person} splits the {_unit} into {S(n)} equal groups and keeps one group.");
            SetCurrent(Calc(_current, '/', Give(n)));
            return true;
        }

        bool Spend()
        {
            var n = Divisor();
            if (n == 0) return false;
            _unit = g.Pick(Goods);
            _sentences.Add($"{_person} spends all the money on {_unit} that cost {S(n)} dollars each.");
            SetCurrent(Calc(_current, '/', Give(n)));
            return true;
        }

        /// <summary>A random exact divisor of the current amount in [2, MaxFactor], or 0 when none exists.</summary>
        long Divisor()
        {
            var max = Math.Min(g._options.MaxFactor, (long)Math.Pow(10, g._options.Digits) - 1);
            var ds = new List<long>();
            for (long d = 2; d <= max; d++) if (_value % d == 0 && _value / d >= 1) ds.Add(d);
            return ds.Count == 0 ? 0 : ds[g._rng.Next(ds.Count)];
        }

        bool ReceivePacks()
        {
            var packs = g.Factor();
            var each = g.Factor();
            if (!Fits(_value + packs * each)) return false;
            var container = g.Pick(Containers);
            _sentences.Add($"{g.Pick(Then)} {Other()} gives {_person} {S(packs)} {container} with {S(each)} {_unit} in each.");
            var total = Calc(Give(packs), '*', Give(each));
            SetCurrent(Calc(_current, '+', total));
            return true;
        }

        bool EarnWage()
        {
            var hours = g.Factor();
            var rate = g.Factor();
            if (!Fits(_value + hours * rate)) return false;
            _sentences.Add($"{_person} then works {S(hours)} hours and earns {S(rate)} dollars an hour.");
            var earned = Calc(Give(hours), '*', Give(rate));
            SetCurrent(Calc(_current, '+', earned));
            return true;
        }

        bool GiveToEach()
        {
            var friends = g.Factor();
            var each = g.Factor();
            if (friends * each >= _value) return false;
            _sentences.Add($"{_person} gives {S(each)} {_unit} to each of {S(friends)} friends.");
            var total = Calc(Give(each), '*', Give(friends));
            SetCurrent(Calc(_current, '-', total));
            return true;
        }
    }
}

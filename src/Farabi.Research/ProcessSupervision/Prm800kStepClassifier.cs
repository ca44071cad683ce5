using System.Text;
using Farabi.Models;

namespace Farabi.Research.ProcessSupervision;

/// <summary>Where a binary step classifier puts PRM800K's neutral (0) ratings.</summary>
public enum NeutralRating
{
    /// <summary>Neutral counts as correct (a reasonable step that does not advance the solution is not an error).</summary>
    Positive,
    /// <summary>Neutral counts as wrong.</summary>
    Negative,
    /// <summary>Neutral steps are left out: the classifier separates +1 from −1 only.</summary>
    Drop,
}

/// <summary>Settings of the PRM800K step classifier.</summary>
public sealed record Prm800kClassifierOptions
{
    /// <summary>Bytes kept from the start of the problem.</summary>
    public int ProblemBytes { get; init; } = 96;
    /// <summary>Bytes kept from the end of the earlier steps (the part nearest the rated step).</summary>
    public int PrefixBytes { get; init; } = 96;
    /// <summary>Bytes kept from the start of the rated step.</summary>
    public int StepBytes { get; init; } = 192;
    /// <summary>Where neutral ratings go.</summary>
    public NeutralRating Neutral { get; init; } = NeutralRating.Positive;
    /// <summary>The byte-level encoder (trained from scratch with the head: no pretrained byte LM ships with Farabi).</summary>
    public SolutionGeneratorOptions Encoder { get; init; } = new() { Layers = 2, Width = 96, Heads = 4, ContextLength = 512 };
    /// <summary>Training of the encoder and its head.</summary>
    public VerifierTrainingOptions Training { get; init; } = new() { Steps = 600, BatchSize = 16, LearningRate = 1e-3 };

    /// <summary>The longest input in bytes (three parts and two newlines).</summary>
    public int MaxBytes => ProblemBytes + PrefixBytes + StepBytes + 2;
}

/// <summary>
/// A step-level correctness classifier on PRM800K phase 1 (Lightman et al. 2023): the input is the
/// problem, the steps before the rated one and the rated step; the target is the human rating. At CPU
/// scale the input is cut to a few hundred bytes (the problem's start, the prefix's end, the step's start),
/// read by a small byte-level transformer with a head on the last byte (a <see cref="StepVerifier"/> of kind
/// <see cref="VerifierKind.Outcome"/>). Trivial baselines come with it: the class prior (ROC-AUC 0.5 by
/// definition), the step's length, and a hashed word n-gram logistic regression.
/// </summary>
public static class Prm800kStepClassifier
{
    /// <summary>The rated steps of <paramref name="ratings"/> with their binary labels under <paramref name="neutral"/>; unrated (human-written) steps are skipped.</summary>
    public static IReadOnlyList<(Prm800kStepRating Rating, bool Positive)> Labelled(IEnumerable<Prm800kStepRating> ratings, NeutralRating neutral)
    {
        var list = new List<(Prm800kStepRating, bool)>();
        foreach (var r in ratings)
        {
            if (r.Rating is not int rating || (rating == 0 && neutral == NeutralRating.Drop)) continue;
            list.Add((r, r.IsPositive(neutral == NeutralRating.Positive)!.Value));
        }
        return list;
    }

    /// <summary>
    /// The classifier's input bytes: the first <see cref="Prm800kClassifierOptions.ProblemBytes"/> of the problem,
    /// a newline, the last <see cref="Prm800kClassifierOptions.PrefixBytes"/> of the earlier steps, a newline, the
    /// first <see cref="Prm800kClassifierOptions.StepBytes"/> of the rated step. The step is last so the head,
    /// which reads the final byte, sees it most directly.
    /// </summary>
    public static long[] Encode(Prm800kStepRating rating, Prm800kClassifierOptions options)
    {
        static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
        var problem = B(rating.Problem);
        var prefix = B(rating.Prefix);
        var step = B(rating.Step);
        var ids = new List<long>(options.MaxBytes);
        ids.AddRange(problem.Take(options.ProblemBytes).Select(b => (long)b));
        ids.Add('\n');
        ids.AddRange(prefix.Skip(Math.Max(0, prefix.Length - options.PrefixBytes)).Select(b => (long)b));
        ids.Add('\n');
        ids.AddRange(step.Take(options.StepBytes).Select(b => (long)b));
        return ids.ToArray();
    }

    /// <summary>The training example of one labelled step: the head reads the last byte.</summary>
    public static VerifierExample Example(Prm800kStepRating rating, bool positive, Prm800kClassifierOptions options)
    {
        var ids = Encode(rating, options);
        return new VerifierExample(ids, [ids.Length - 1], [positive ? 1f : 0f], [true]);
    }

    /// <summary>
    /// Trains a fresh byte-level encoder with a correctness head on <paramref name="train"/>;
    /// <paramref name="onStep"/> gets (step, loss, learning rate).
    /// </summary>
    public static StepVerifier Train(IReadOnlyList<(Prm800kStepRating Rating, bool Positive)> train, Prm800kClassifierOptions options, Action<int, double, double>? onStep = null)
    {
        if (options.MaxBytes > options.Encoder.ContextLength)
            throw new ArgumentException($"inputs of up to {options.MaxBytes} bytes do not fit the encoder's context of {options.Encoder.ContextLength}.");
        var examples = train.Select(x => Example(x.Rating, x.Positive, options)).ToArray();
        var verifier = new StepVerifier(VerifierKind.Outcome, options.Encoder.ModelConfig().CreateModel(options.Encoder.Seed), options.Training.Seed);
        verifier.Train(examples, options.Training, onStep);
        return verifier;
    }

    /// <summary>
    /// The text a frozen sentence encoder embeds for one rated step: the step, the step before it, then the
    /// problem, each cut to <paramref name="maxChars"/> characters. The step comes first because the encoder
    /// cuts long inputs at the end (MiniLM keeps 256 word pieces), and the step is what is being judged.
    /// </summary>
    public static string ProbeText(Prm800kStepRating rating, int maxChars = 600)
    {
        static string Cut(string s, int n) => s.Length <= n ? s : s[..n];
        var previous = rating.PriorSteps.Count > 0 ? rating.PriorSteps[^1] : "";
        return Cut(rating.Step, maxChars) + "\n" + Cut(previous, maxChars / 2) + "\n" + Cut(rating.Problem, maxChars / 2);
    }

    /// <summary>
    /// Fits a logistic-regression probe (<see cref="Clip.LinearProbe"/>) on frozen embeddings of the training
    /// steps and returns the probability of "correct" for each test embedding.
    /// </summary>
    public static double[] ProbeScores(float[][] train, IReadOnlyList<bool> trainPositive, float[][] test, int steps = 300, double weightDecay = 1e-3, long seed = 0)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var d = train[0].Length;
        var x = TorchSharp.torch.tensor(train.SelectMany(v => v).ToArray(), [train.Length, d]);
        using var probe = Clip.LinearProbe.Fit(x, trainPositive.Select(p => p ? 1 : 0).ToArray(), 2, steps: steps, weightDecay: weightDecay, seed: seed);
        var t = TorchSharp.torch.tensor(test.SelectMany(v => v).ToArray(), [test.Length, d]);
        return probe.Logits(t).softmax(-1)[.., 1].to_type(TorchSharp.torch.ScalarType.Float64).data<double>().ToArray();
    }

    /// <summary>The classifier's probability that each step is correct.</summary>
    public static double[] Score(StepVerifier classifier, IReadOnlyList<Prm800kStepRating> steps, Prm800kClassifierOptions options, Action<int>? onBatch = null)
    {
        var examples = steps.Select(r => Example(r, false, options)).ToArray();
        return classifier.ScoreExamples(examples, onBatch: onBatch).Select(p => p[0]).ToArray();
    }
}

/// <summary>
/// Logistic regression on hashed word unigrams and bigrams (separate namespaces for the problem, the
/// last earlier step and the rated step), trained by AdaGrad: the cheap, strong bag-of-words baseline a neural
/// step classifier should beat. Deterministic for a seed.
/// </summary>
public sealed class HashedNgramClassifier
{
    readonly float[] _weights;
    readonly int _bits;
    float _bias;

    /// <summary>A classifier with 2^<paramref name="bits"/> hashed features.</summary>
    public HashedNgramClassifier(int bits = 18)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 26);
        _bits = bits;
        _weights = new float[1 << bits];
    }

    /// <summary>The hashed feature indices of one rated step (duplicates allowed; they add up).</summary>
    public int[] Features(Prm800kStepRating r)
    {
        var list = new List<int>();
        void Add(string ns, string text)
        {
            var words = Words(text);
            for (var i = 0; i < words.Count; i++)
            {
                list.Add(Hash(ns, words[i], ""));
                if (i + 1 < words.Count) list.Add(Hash(ns, words[i], words[i + 1]));
            }
        }
        Add("q", r.Problem);
        Add("p", r.PriorSteps.Count > 0 ? r.PriorSteps[^1] : "");
        Add("s", r.Step);
        // Length and position of the step: coarse buckets, so the model can use them as the length baseline does.
        list.Add(Hash("len", Math.Min(20, Encoding.UTF8.GetByteCount(r.Step) / 20).ToString(System.Globalization.CultureInfo.InvariantCulture), ""));
        list.Add(Hash("pos", Math.Min(15, r.PriorSteps.Count).ToString(System.Globalization.CultureInfo.InvariantCulture), ""));
        return list.ToArray();
    }

    /// <summary>Lower-cased runs of letters or digits, and every other non-space character on its own (LaTeX symbols matter).</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var sb = new StringBuilder();
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c)) { sb.Append(char.ToLowerInvariant(c)); continue; }
            if (sb.Length > 0) { words.Add(sb.ToString()); sb.Clear(); }
            if (!char.IsWhiteSpace(c)) words.Add(c.ToString());
        }
        if (sb.Length > 0) words.Add(sb.ToString());
        return words;
    }

    int Hash(string ns, string a, string b)
    {
        // FNV-1a: stable across runs (string.GetHashCode is randomised per process).
        var h = 2166136261u;
        foreach (var s in new[] { ns, "\u0001", a, "\u0002", b })
            foreach (var c in s) { h ^= c; h *= 16777619u; }
        return (int)(h & ((1u << _bits) - 1));
    }

    /// <summary>The probability that the step is correct.</summary>
    public double Predict(int[] features)
    {
        double z = _bias;
        var scale = 1.0 / Math.Sqrt(Math.Max(1, features.Length));
        foreach (var f in features) z += _weights[f] * scale;
        return 1 / (1 + Math.Exp(-z));
    }

    /// <summary>
    /// Picks the learning rate and number of passes on a tenth of <paramref name="data"/> held out (by
    /// ROC-AUC), then refits on all of it: the baseline gets the same care as the model it is compared with.
    /// </summary>
    public static HashedNgramClassifier FitWithValidation(IReadOnlyList<(Prm800kStepRating Rating, bool Positive)> data, int seed = 0, int bits = 18)
    {
        var featurizer = new HashedNgramClassifier(bits);
        var all = data.Select(x => (featurizer.Features(x.Rating), x.Positive)).ToArray();
        var order = Enumerable.Range(0, all.Length).ToArray();
        new Random(seed).Shuffle(order);
        var cut = Math.Max(1, all.Length / 10);
        var validation = order.Take(cut).Select(i => all[i]).ToArray();
        var fit = order.Skip(cut).Select(i => all[i]).ToArray();
        var best = (Auc: double.NegativeInfinity, Rate: 0.1, Epochs: 1);
        if (fit.Length > 0 && validation.Select(v => v.Positive).Distinct().Count() == 2)
        {
            foreach (var rate in new[] { 0.02, 0.1, 0.5 })
                foreach (var epochs in new[] { 1, 3 })
                {
                    var c = new HashedNgramClassifier(bits);
                    c.Train(fit, epochs, rate, seed: seed);
                    var auc = VerifierEvaluation.RankRocAuc(validation.Select(v => c.Predict(v.Item1)).ToArray(), validation.Select(v => v.Positive).ToArray());
                    if (auc > best.Auc) best = (auc, rate, epochs);
                }
        }
        var final = new HashedNgramClassifier(bits);
        final.Train(all, best.Epochs, best.Rate, seed: seed);
        return final;
    }

    /// <summary>AdaGrad on the log loss for <paramref name="epochs"/> shuffled passes, with L2 <paramref name="l2"/> on touched weights.</summary>
    public void Train(IReadOnlyList<(int[] Features, bool Positive)> data, int epochs = 3, double learningRate = 0.5, double l2 = 1e-6, int seed = 0)
    {
        var g2 = new float[_weights.Length];
        double biasG2 = 0;
        var rng = new Random(seed);
        var order = Enumerable.Range(0, data.Count).ToArray();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            rng.Shuffle(order);
            foreach (var i in order)
            {
                var (features, positive) = data[i];
                var grad = Predict(features) - (positive ? 1 : 0);
                var scale = 1.0 / Math.Sqrt(Math.Max(1, features.Length));
                foreach (var f in features)
                {
                    var g = grad * scale + l2 * _weights[f];
                    g2[f] += (float)(g * g);
                    _weights[f] -= (float)(learningRate * g / (Math.Sqrt(g2[f]) + 1e-8));
                }
                biasG2 += grad * grad;
                _bias -= (float)(learningRate * grad / (Math.Sqrt(biasG2) + 1e-8));
            }
        }
    }
}

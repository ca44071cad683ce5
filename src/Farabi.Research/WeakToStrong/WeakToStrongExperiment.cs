namespace Farabi.Research.WeakToStrong;

/// <summary>
/// One row of a weak-to-strong experiment: a (weak, strong, loss, seed) cell with its test metrics. The JSON names
/// (<c>weak_acc</c>, <c>ceiling_acc</c>, <c>w2s_acc</c>, <c>pgr</c>, <c>pgr_auc</c>, <c>pgr_best</c>) are what scripts read.
/// </summary>
public sealed record WeakToStrongResult
{
    /// <summary>Task name.</summary>
    public required string Task { get; init; }
    /// <summary>The supervisor family, or the chain that produced the labels (<c>gpt-tiny&gt;gpt-small</c> when bootstrapped).</summary>
    public required string Weak { get; init; }
    /// <summary>The student (and ceiling) family.</summary>
    public required string Strong { get; init; }
    /// <summary>The student loss name.</summary>
    public required string Loss { get; init; }
    /// <summary>Seed of split, initialisation and batch order.</summary>
    public required int Seed { get; init; }
    /// <summary>Test accuracy of the weak supervisor (trained on A's ground truth).</summary>
    public required double WeakAcc { get; init; }
    /// <summary>Test ROC-AUC of the weak supervisor.</summary>
    public required double WeakAuc { get; init; }
    /// <summary>Test accuracy of the strong ceiling (trained on B's ground truth), at the end of training.</summary>
    public required double CeilingAcc { get; init; }
    /// <summary>Test ROC-AUC of the ceiling.</summary>
    public required double CeilingAuc { get; init; }
    /// <summary>Test accuracy of the strong student trained on B's weak labels, at the end of training.</summary>
    public required double W2sAcc { get; init; }
    /// <summary>Test ROC-AUC of the student at the end.</summary>
    public required double W2sAuc { get; init; }
    /// <summary>Test accuracy of the student at its best validation step.</summary>
    public required double W2sBestAcc { get; init; }
    /// <summary>Test accuracy of the ceiling at its best validation step.</summary>
    public required double CeilingBestAcc { get; init; }
    /// <summary>Accuracy PGR at the end of training.</summary>
    public required double Pgr { get; init; }
    /// <summary>ROC-AUC PGR at the end of training.</summary>
    public required double PgrAuc { get; init; }
    /// <summary>Accuracy PGR with student and ceiling both taken at their best validation step.</summary>
    public required double PgrBest { get; init; }
    /// <summary>False when the ceiling's accuracy does not exceed the weak model's (PGR meaningless; flagged, kept).</summary>
    public required bool CeilingBeatsWeak { get; init; }
    /// <summary>Share of test examples where student and weak supervisor predict the same class.</summary>
    public required double Agreement { get; init; }
    /// <summary>Accuracy of the weak labels on B against B's ground truth.</summary>
    public required double WeakLabelAccOnB { get; init; }
    /// <summary>The student's best validation step.</summary>
    public required int BestStep { get; init; }
}

/// <summary>Settings of <see cref="WeakToStrongExperiment"/>.</summary>
/// <param name="ValidationFraction">Share of the training set held out (ground truth) to pick the best step; the rest is split into A and B.</param>
/// <param name="Losses">Student losses to compare.</param>
public sealed record WeakToStrongOptions(double ValidationFraction = 0.1, IReadOnlyList<StudentLoss>? Losses = null)
{
    /// <summary>The losses, xent and aux_conf by default.</summary>
    public IReadOnlyList<StudentLoss> LossList => Losses ?? [StudentLoss.Xent, StudentLoss.AuxConf];
}

/// <summary>
/// The weak-to-strong experiment of Burns et al. (2023): train a weak model on half A's ground truth, label half B
/// with it (soft labels kept), train the strong student on B's weak labels with each loss, train the strong ceiling on
/// B's ground truth, and score everything on the test set. A ground-truth validation slice (held out before the split)
/// picks the "best step"; using ground truth there is the paper's optimistic early-stopping bound, so the end-of-training
/// PGR is the honest headline and the difference between the two shows overfitting to weak labels.
/// </summary>
public sealed class WeakToStrongExperiment(TextClassificationTask task, WeakToStrongOptions? options = null)
{
    readonly WeakToStrongOptions options = options ?? new WeakToStrongOptions();

    /// <summary>Reports progress (a short line) as the stages finish.</summary>
    public Action<string>? Progress { get; init; }

    sealed record Data(List<(string Text, int Label)> Validation, List<(string Text, int Label)> A, List<(string Text, int Label)> B);

    Data SplitFor(int seed)
    {
        var shuffled = task.Train.ToList();
        new Random(seed ^ 0x5eed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shuffled));
        var validationCount = (int)Math.Round(shuffled.Count * options.ValidationFraction);
        var rest = shuffled.Skip(validationCount).ToList();
        var split = WeakLabelSplit.Create(rest.Count, seed);
        return new Data(shuffled.Take(validationCount).ToList(), WeakLabelSplit.Take(rest, split.A), WeakLabelSplit.Take(rest, split.B));
    }

    ClassifierTrainingRequest Request(IReadOnlyList<string> texts, IReadOnlyList<float> targets, StudentLoss loss, int seed, Data data) =>
        new(texts, targets, loss, seed, data.Validation.Select(e => e.Text).ToList(), data.Validation.Select(e => e.Label).ToList(), task.Test.Select(e => e.Text).ToList());

    /// <summary>
    /// Runs the pair (<paramref name="weak"/>, <paramref name="strong"/>) for one seed: one row per loss. With
    /// <paramref name="intermediates"/>, bootstrapping: the weak model labels B, each intermediate learns from the
    /// previous labels (with the same loss) and relabels B, and the strong student learns from the last one's labels.
    /// </summary>
    public IReadOnlyList<WeakToStrongResult> Run(IClassifierFamily weak, IClassifierFamily strong, int seed, IReadOnlyList<IClassifierFamily>? intermediates = null) =>
        RunLazily(weak, strong, seed, intermediates).ToList();

    /// <summary>As <see cref="Run"/>, yielding each loss's row as soon as its student is scored (long runs save as they go).</summary>
    public IEnumerable<WeakToStrongResult> RunLazily(IClassifierFamily weak, IClassifierFamily strong, int seed, IReadOnlyList<IClassifierFamily>? intermediates = null)
    {
        var data = SplitFor(seed);
        var testLabels = task.Test.Select(e => e.Label).ToList();
        var bTexts = data.B.Select(e => e.Text).ToList();
        var bLabels = data.B.Select(e => e.Label).ToList();

        Progress?.Invoke($"{weak.Name}: training on A's ground truth ({data.A.Count})");
        float[] weakOnB, weakTest;
        using (var w = weak.Train(Request(data.A.Select(e => e.Text).ToList(), data.A.Select(e => (float)e.Label).ToList(), StudentLoss.Xent, seed, data)).Classifier)
        {
            weakOnB = w.PredictClass1(bTexts);
            weakTest = w.PredictClass1(task.Test.Select(e => e.Text).ToList());
        }
        var weakAcc = ClassifierMetrics.Accuracy(weakTest, testLabels);
        var weakAuc = ClassifierMetrics.RocAuc(weakTest, testLabels);
        Progress?.Invoke($"{weak.Name}: test accuracy {weakAcc:F3}");

        Progress?.Invoke($"{strong.Name}: ceiling on B's ground truth ({data.B.Count})");
        var ceiling = strong.Train(Request(bTexts, bLabels.Select(l => (float)l).ToList(), StudentLoss.Xent, seed, data));
        float[] ceilingTest;
        using (ceiling.Classifier) ceilingTest = ceiling.Classifier.PredictClass1(task.Test.Select(e => e.Text).ToList());
        var ceilingAcc = ClassifierMetrics.Accuracy(ceilingTest, testLabels);
        var ceilingAuc = ClassifierMetrics.RocAuc(ceilingTest, testLabels);
        var ceilingBestAcc = ClassifierMetrics.Accuracy(ceiling.WatchAtBestStep, testLabels);
        Progress?.Invoke($"{strong.Name}: ceiling test accuracy {ceilingAcc:F3}");

        foreach (var loss in options.LossList)
        {
            var labels = weakOnB;
            var chain = weak.Name;
            foreach (var middle in intermediates ?? [])
            {
                Progress?.Invoke($"{middle.Name}: intermediate on {chain}'s labels ({WeakToStrongLoss.Name(loss)})");
                using var m = middle.Train(Request(bTexts, labels, loss, seed, data)).Classifier;
                labels = m.PredictClass1(bTexts);
                chain += ">" + middle.Name;
            }
            Progress?.Invoke($"{strong.Name}: student on {chain}'s labels ({WeakToStrongLoss.Name(loss)})");
            var student = strong.Train(Request(bTexts, labels, loss, seed, data));
            float[] studentTest;
            using (student.Classifier) studentTest = student.Classifier.PredictClass1(task.Test.Select(e => e.Text).ToList());
            var w2sAcc = ClassifierMetrics.Accuracy(studentTest, testLabels);
            var w2sAuc = ClassifierMetrics.RocAuc(studentTest, testLabels);
            var w2sBest = ClassifierMetrics.Accuracy(student.WatchAtBestStep, testLabels);
            var pgr = PerformanceGapRecovered.Compute(weakAcc, w2sAcc, ceilingAcc);
            yield return new WeakToStrongResult
            {
                Task = task.Name, Weak = chain, Strong = strong.Name, Loss = WeakToStrongLoss.Name(loss), Seed = seed,
                WeakAcc = weakAcc, WeakAuc = weakAuc, CeilingAcc = ceilingAcc, CeilingAuc = ceilingAuc,
                W2sAcc = w2sAcc, W2sAuc = w2sAuc, W2sBestAcc = w2sBest, CeilingBestAcc = ceilingBestAcc,
                Pgr = pgr.Value, PgrAuc = PerformanceGapRecovered.Compute(weakAuc, w2sAuc, ceilingAuc).Value,
                PgrBest = PerformanceGapRecovered.Compute(weakAcc, w2sBest, ceilingBestAcc).Value,
                CeilingBeatsWeak = pgr.CeilingBeatsWeak, Agreement = ClassifierMetrics.Agreement(studentTest, weakTest),
                WeakLabelAccOnB = ClassifierMetrics.Accuracy(labels, bLabels), BestStep = student.BestStep,
            };
        }
    }
}

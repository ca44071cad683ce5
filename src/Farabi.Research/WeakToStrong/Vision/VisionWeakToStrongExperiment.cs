namespace Farabi.Research.WeakToStrong.Vision;

/// <summary>Settings of <see cref="VisionWeakToStrongExperiment"/>.</summary>
/// <param name="ValidationFraction">Share of the training set held out (ground truth) to pick the best step; the rest is split into A and B.</param>
/// <param name="Losses">Student losses to compare (xent and aux_conf by default).</param>
/// <param name="AlphaMax">Final weight of the confidence term of aux_conf.</param>
public sealed record VisionWeakToStrongOptions(double ValidationFraction = 0.1, IReadOnlyList<StudentLoss>? Losses = null,
    double AlphaMax = WeakToStrongLoss.DefaultAlphaMax)
{
    /// <summary>The losses, xent and aux_conf by default.</summary>
    public IReadOnlyList<StudentLoss> LossList => Losses ?? [StudentLoss.Xent, StudentLoss.AuxConf];
}

/// <summary>
/// Weak-to-strong generalization on a K-class image task, as in the ImageNet experiment of Burns et al. (2023, arXiv
/// 2312.09390; openai/weak-to-strong <c>vision/</c>: AlexNet's labels train a linear probe on frozen DINO features).
/// Per seed: a ground-truth validation slice is held out, the rest is cut into halves A and B
/// (<see cref="WeakLabelSplit"/>); the weak model trains on A's ground truth and labels B with its softmax (soft labels
/// kept); the strong student trains on B's weak labels with each loss; the strong ceiling trains on B's ground truth;
/// all are scored on the test set. Rows are <see cref="WeakToStrongResult"/>s (top-1 accuracy, macro one-vs-rest
/// ROC-AUC), so the text experiment's summaries and reports apply unchanged.
/// </summary>
public sealed class VisionWeakToStrongExperiment
{
    readonly string taskName;
    readonly ImageExamples train;
    readonly ImageExamples test;
    readonly VisionWeakToStrongOptions options;

    /// <summary>An experiment on <paramref name="train"/> (split per seed) scored on <paramref name="test"/>.</summary>
    /// <exception cref="ArgumentException">Train and test disagree on the classes or views, or the training set is too small to split.</exception>
    public VisionWeakToStrongExperiment(string taskName, ImageExamples train, ImageExamples test, VisionWeakToStrongOptions? options = null)
    {
        if (train.Classes != test.Classes) throw new ArgumentException($"Training set has {train.Classes} classes, test set {test.Classes}.");
        if ((train.Images == null) != (test.Images == null) || (train.Features == null) != (test.Features == null))
            throw new ArgumentException("Training and test examples must carry the same views (images and/or features).");
        if (test.Count == 0) throw new ArgumentException("The test set is empty.");
        this.options = options ?? new VisionWeakToStrongOptions();
        if (this.options.ValidationFraction is < 0 or >= 1) throw new ArgumentException($"The validation fraction must be in [0, 1), not {this.options.ValidationFraction}.");
        if (train.Count * (1 - this.options.ValidationFraction) < 4) throw new ArgumentException($"{train.Count} training examples are too few for a validation slice and halves A and B.");
        this.taskName = taskName;
        this.train = train;
        this.test = test;
    }

    /// <summary>Reports progress (a short line) as the stages finish.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>The held-out validation slice and the halves A and B of the training set for <paramref name="seed"/> (indices into it).</summary>
    public (int[] Validation, int[] A, int[] B) SplitFor(int seed)
    {
        var order = Enumerable.Range(0, train.Count).ToArray();
        new Random(seed ^ 0x5eed).Shuffle(order);
        var validationCount = (int)Math.Round(train.Count * options.ValidationFraction);
        var rest = order[validationCount..];
        var split = WeakLabelSplit.Create(rest.Length, seed);
        return (order[..validationCount], split.A.Select(i => rest[i]).ToArray(), split.B.Select(i => rest[i]).ToArray());
    }

    /// <summary>
    /// Runs <paramref name="weak"/> against each of <paramref name="strongs"/> for one seed: one row per (strong, loss),
    /// yielded as soon as its student is scored. The weak model is trained once and its labels are shared by all
    /// students. With <paramref name="intermediates"/>, bootstrapping: the weak model labels B, each intermediate learns
    /// from the previous labels (with the same loss) and relabels B, and the strong student learns from the last labels.
    /// </summary>
    public IEnumerable<WeakToStrongResult> RunLazily(IImageClassifierFamily weak, IReadOnlyList<IImageClassifierFamily> strongs, int seed,
        IReadOnlyList<IImageClassifierFamily>? intermediates = null)
    {
        var (validationIndices, aIndices, bIndices) = SplitFor(seed);
        var validation = train.Subset(validationIndices);
        var a = train.Subset(aIndices);
        var b = train.Subset(bIndices);
        ImageTrainingRequest Request(ImageExamples examples, IReadOnlyList<float[]> targets, StudentLoss loss) =>
            new(examples, targets, loss, seed, validation, test, options.AlphaMax);

        Progress?.Invoke($"{weak.Name}: training on A's ground truth ({a.Count})");
        float[][] weakOnB, weakTest;
        using (var w = weak.Train(Request(a, a.OneHotTargets(), StudentLoss.Xent)).Classifier)
        {
            weakOnB = w.PredictProbabilities(b);
            weakTest = w.PredictProbabilities(test);
        }
        var weakAcc = MultiClassMetrics.Accuracy(weakTest, test.Labels);
        var weakAuc = MultiClassMetrics.MacroRocAuc(weakTest, test.Labels);
        Progress?.Invoke($"{weak.Name}: test accuracy {weakAcc:F3}");
        var supervisor = new Supervisor(weak.Name, weakOnB, weakTest, weakAcc, weakAuc);
        foreach (var strong in strongs)
            foreach (var row in Students(strong, supervisor, seed, b, Request, intermediates))
                yield return row;
    }

    /// <summary>The weak model's outputs that every student of a seed shares.</summary>
    sealed record Supervisor(string Name, float[][] OnB, float[][] OnTest, double Acc, double Auc);

    IEnumerable<WeakToStrongResult> Students(IImageClassifierFamily strong, Supervisor weak, int seed, ImageExamples b,
        Func<ImageExamples, IReadOnlyList<float[]>, StudentLoss, ImageTrainingRequest> request, IReadOnlyList<IImageClassifierFamily>? intermediates)
    {
        var (weakAcc, weakAuc, weakTest) = (weak.Acc, weak.Auc, weak.OnTest);
        Progress?.Invoke($"{strong.Name}: ceiling on B's ground truth ({b.Count})");
        var ceiling = strong.Train(request(b, b.OneHotTargets(), StudentLoss.Xent));
        float[][] ceilingTest;
        using (ceiling.Classifier) ceilingTest = ceiling.Classifier.PredictProbabilities(test);
        var ceilingAcc = MultiClassMetrics.Accuracy(ceilingTest, test.Labels);
        var ceilingAuc = MultiClassMetrics.MacroRocAuc(ceilingTest, test.Labels);
        var ceilingBestAcc = MultiClassMetrics.Accuracy(ceiling.WatchAtBestStep, test.Labels);
        Progress?.Invoke($"{strong.Name}: ceiling test accuracy {ceilingAcc:F3}");

        foreach (var loss in options.LossList)
        {
            var labels = weak.OnB;
            var chain = weak.Name;
            foreach (var middle in intermediates ?? [])
            {
                Progress?.Invoke($"{middle.Name}: intermediate on {chain}'s labels ({WeakToStrongLoss.Name(loss)})");
                using var m = middle.Train(request(b, labels, loss)).Classifier;
                labels = m.PredictProbabilities(b);
                chain += ">" + middle.Name;
            }
            Progress?.Invoke($"{strong.Name}: student on {chain}'s labels ({WeakToStrongLoss.Name(loss)})");
            var student = strong.Train(request(b, labels, loss));
            float[][] studentTest;
            using (student.Classifier) studentTest = student.Classifier.PredictProbabilities(test);
            var w2sAcc = MultiClassMetrics.Accuracy(studentTest, test.Labels);
            var w2sAuc = MultiClassMetrics.MacroRocAuc(studentTest, test.Labels);
            var w2sBest = MultiClassMetrics.Accuracy(student.WatchAtBestStep, test.Labels);
            var pgr = PerformanceGapRecovered.Compute(weakAcc, w2sAcc, ceilingAcc);
            Progress?.Invoke($"{strong.Name} ({WeakToStrongLoss.Name(loss)}): test accuracy {w2sAcc:F3}, PGR {pgr.Value:F3}");
            yield return new WeakToStrongResult
            {
                Task = taskName, Weak = chain, Strong = strong.Name, Loss = WeakToStrongLoss.Name(loss), Seed = seed,
                WeakAcc = weakAcc, WeakAuc = weakAuc, CeilingAcc = ceilingAcc, CeilingAuc = ceilingAuc,
                W2sAcc = w2sAcc, W2sAuc = w2sAuc, W2sBestAcc = w2sBest, CeilingBestAcc = ceilingBestAcc,
                Pgr = pgr.Value, PgrAuc = PerformanceGapRecovered.Compute(weakAuc, w2sAuc, ceilingAuc).Value,
                PgrBest = PerformanceGapRecovered.Compute(weakAcc, w2sBest, ceilingBestAcc).Value,
                CeilingBeatsWeak = pgr.CeilingBeatsWeak, Agreement = MultiClassMetrics.Agreement(studentTest, weakTest),
                WeakLabelAccOnB = MultiClassMetrics.Accuracy(labels, b.Labels), BestStep = student.BestStep,
            };
        }
    }

    /// <summary>The pair (<paramref name="weak"/>, <paramref name="strong"/>) for one seed: one row per loss.</summary>
    public IReadOnlyList<WeakToStrongResult> Run(IImageClassifierFamily weak, IImageClassifierFamily strong, int seed,
        IReadOnlyList<IImageClassifierFamily>? intermediates = null) => RunLazily(weak, [strong], seed, intermediates).ToList();
}

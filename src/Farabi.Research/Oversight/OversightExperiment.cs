using Farabi.Research.WeakToStrong;

namespace Farabi.Research.Oversight;

/// <summary>One (strategy, budget, seed) cell of an oversight experiment.</summary>
/// <param name="Strategy">Strategy name.</param>
/// <param name="Budget">Ground-truth checks k.</param>
/// <param name="Seed">Seed.</param>
/// <param name="LabelAccuracy">Accuracy of B's labels after correction.</param>
/// <param name="CorrectedWrongLabels">How many checked labels had been wrong (the checks that helped).</param>
/// <param name="WeakAcc">Weak supervisor's test accuracy.</param>
/// <param name="CeilingAcc">Strong ceiling's test accuracy.</param>
/// <param name="W2sAcc">Test accuracy of the student retrained on the corrected labels.</param>
/// <param name="Pgr">Its accuracy PGR.</param>
public sealed record OversightResult(string Strategy, int Budget, int Seed, double LabelAccuracy, int CorrectedWrongLabels, double WeakAcc, double CeilingAcc, double W2sAcc, double Pgr);

/// <summary>
/// Weak-to-strong training with a budget-limited overseer: the weak supervisor labels B; a first strong student learns
/// from those labels; the overseer checks k of B's labels against ground truth, chosen by each
/// <see cref="OversightStrategy"/>; the corrected labels train the next student. PGR as a function of k per strategy.
/// </summary>
public sealed class OversightExperiment(TextClassificationTask task, StudentLoss loss = StudentLoss.Xent, int ensembleSize = 3)
{
    /// <summary>Reports progress lines.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>Runs every strategy at every budget for one seed (budget 0 is the plain weak-to-strong student).</summary>
    public IReadOnlyList<OversightResult> Run(IClassifierFamily weak, IClassifierFamily strong, int seed, IReadOnlyList<OversightStrategy> strategies, IReadOnlyList<int> budgets)
    {
        var shuffled = task.Train.ToList();
        new Random(seed ^ 0x5eed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shuffled));
        var validation = shuffled.Take(shuffled.Count / 10).ToList();
        var rest = shuffled.Skip(validation.Count).ToList();
        var split = WeakLabelSplit.Create(rest.Count, seed);
        var a = WeakLabelSplit.Take(rest, split.A);
        var b = WeakLabelSplit.Take(rest, split.B);
        var bTexts = b.Select(e => e.Text).ToList();
        var bTruth = b.Select(e => e.Label).ToList();
        var testTexts = task.Test.Select(e => e.Text).ToList();
        var testLabels = task.Test.Select(e => e.Label).ToList();
        ClassifierTrainingRequest Request(IReadOnlyList<string> texts, IReadOnlyList<float> targets, StudentLoss l, int s) =>
            new(texts, targets, l, s, validation.Select(e => e.Text).ToList(), validation.Select(e => e.Label).ToList(), testTexts);

        Progress?.Invoke($"{weak.Name}: supervisor on A");
        float[] weakOnB, weakTest;
        using (var w = weak.Train(Request(a.Select(e => e.Text).ToList(), a.Select(e => (float)e.Label).ToList(), StudentLoss.Xent, seed)).Classifier)
        {
            weakOnB = w.PredictClass1(bTexts);
            weakTest = w.PredictClass1(testTexts);
        }
        var weakAcc = ClassifierMetrics.Accuracy(weakTest, testLabels);
        Progress?.Invoke($"{strong.Name}: ceiling on B");
        double ceilingAcc;
        using (var c = strong.Train(Request(bTexts, bTruth.Select(l => (float)l).ToList(), StudentLoss.Xent, seed)).Classifier)
            ceilingAcc = ClassifierMetrics.Accuracy(c.PredictClass1(testTexts), testLabels);

        Progress?.Invoke($"{strong.Name}: student on the weak labels");
        float[] studentOnB;
        double plainAcc;
        using (var s = strong.Train(Request(bTexts, weakOnB, loss, seed)).Classifier)
        {
            studentOnB = s.PredictClass1(bTexts);
            plainAcc = ClassifierMetrics.Accuracy(s.PredictClass1(testTexts), testLabels);
        }

        List<IReadOnlyList<float>>? ensemble = null;
        if (strategies.Contains(OversightStrategy.EnsembleDisagreement))
        {
            ensemble = [];
            var random = new Random(seed + 101);
            for (var m = 0; m < ensembleSize; m++)
            {
                Progress?.Invoke($"{weak.Name}: ensemble member {m + 1}/{ensembleSize} on a bootstrap resample of A");
                var sample = Enumerable.Range(0, a.Count).Select(_ => a[random.Next(a.Count)]).ToList();
                using var member = weak.Train(Request(sample.Select(e => e.Text).ToList(), sample.Select(e => (float)e.Label).ToList(), StudentLoss.Xent, seed * 31 + m + 1)).Classifier;
                ensemble.Add(member.PredictClass1(bTexts));
            }
        }

        var rows = new List<OversightResult>();
        var weakLabelAcc = ClassifierMetrics.Accuracy(weakOnB, bTruth);
        foreach (var strategy in strategies)
            foreach (var k in budgets)
            {
                double acc;
                float[] labels;
                var wrongFixed = 0;
                if (k == 0)
                {
                    labels = weakOnB;
                    acc = plainAcc;
                }
                else
                {
                    var chosen = OversightSelection.Select(strategy, k, weakOnB, studentOnB, ensemble, seed);
                    wrongFixed = chosen.Count(i => (weakOnB[i] >= 0.5f ? 1 : 0) != bTruth[i]);
                    labels = OversightSelection.Correct(weakOnB, bTruth, chosen);
                    Progress?.Invoke($"{strong.Name}: student after {k} checks ({OversightSelection.Name(strategy)})");
                    using var s = strong.Train(Request(bTexts, labels, loss, seed)).Classifier;
                    acc = ClassifierMetrics.Accuracy(s.PredictClass1(testTexts), testLabels);
                }
                rows.Add(new OversightResult(OversightSelection.Name(strategy), k, seed, k == 0 ? weakLabelAcc : ClassifierMetrics.Accuracy(labels, bTruth),
                    wrongFixed, weakAcc, ceilingAcc, acc, PerformanceGapRecovered.Compute(weakAcc, acc, ceilingAcc).Value));
            }
        return rows;
    }
}

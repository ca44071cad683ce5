namespace Farabi.Research.WeakToStrong.Vision;

/// <summary>
/// Metrics of a K-class classifier from its class probabilities (one row of K per example). The predicted class is the
/// argmax (the first on ties).
/// </summary>
public static class MultiClassMetrics
{
    /// <summary>The index of the largest value (the first on ties).</summary>
    public static int Argmax(IReadOnlyList<float> row)
    {
        if (row.Count == 0) throw new ArgumentException("An empty probability row has no argmax.");
        var best = 0;
        for (var k = 1; k < row.Count; k++) if (row[k] > row[best]) best = k;
        return best;
    }

    /// <summary>Share of examples whose argmax is the label (top-1 accuracy).</summary>
    public static double Accuracy(IReadOnlyList<float[]> probabilities, IReadOnlyList<int> labels)
    {
        Check(probabilities.Count, labels.Count);
        var correct = 0;
        for (var i = 0; i < labels.Count; i++) correct += Argmax(probabilities[i]) == labels[i] ? 1 : 0;
        return (double)correct / labels.Count;
    }

    /// <summary>
    /// Macro one-vs-rest ROC-AUC: for each class present with both positives and negatives, the binary ROC-AUC of its
    /// probability column against "is this class" (<see cref="ClassifierMetrics.RocAuc"/>, ties ½), averaged over those
    /// classes. NaN when no class qualifies.
    /// </summary>
    public static double MacroRocAuc(IReadOnlyList<float[]> probabilities, IReadOnlyList<int> labels)
    {
        Check(probabilities.Count, labels.Count);
        var classes = probabilities[0].Length;
        var aucs = new List<double>();
        for (var k = 0; k < classes; k++)
        {
            var column = probabilities.Select(p => p[k]).ToArray();
            var isK = labels.Select(l => l == k ? 1 : 0).ToArray();
            var auc = ClassifierMetrics.RocAuc(column, isK);
            if (double.IsFinite(auc)) aucs.Add(auc);
        }
        return aucs.Count == 0 ? double.NaN : aucs.Average();
    }

    /// <summary>Share of examples where two classifiers' argmax agree (student–supervisor agreement).</summary>
    public static double Agreement(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b)
    {
        Check(a.Count, b.Count);
        var same = 0;
        for (var i = 0; i < a.Count; i++) same += Argmax(a[i]) == Argmax(b[i]) ? 1 : 0;
        return (double)same / a.Count;
    }

    static void Check(int predictions, int labels)
    {
        if (predictions != labels) throw new ArgumentException($"{predictions} predictions for {labels} labels.");
        if (labels == 0) throw new ArgumentException("No examples to score.");
    }
}

namespace Farabi.Research.WeakToStrong;

/// <summary>A trained binary text classifier: the weak supervisor, the student or the ceiling.</summary>
public interface ITextClassifier : IDisposable
{
    /// <summary>The probability of class 1 for each text.</summary>
    float[] PredictClass1(IReadOnlyList<string> texts);
}

/// <summary>
/// What one training run needs: texts with soft targets, the loss, and the sets to watch. Every
/// few steps (the family's own setting, e.g. <see cref="GptFamilyOptions.EvalEvery"/>) the classifier is scored on <see cref="ValidationTexts"/>; the watched texts'
/// predictions at the best validation step are kept so that the experiment can report a metric "at the best step"
/// next to the one at the end.
/// </summary>
/// <param name="Texts">Training texts.</param>
/// <param name="Class1Targets">Target probability of class 1 per text (0/1 for ground truth, soft for weak labels).</param>
/// <param name="Loss">The student loss.</param>
/// <param name="Seed">Fixes initialisation (of the head and adapters) and batch order.</param>
/// <param name="ValidationTexts">Texts for early-stopping selection.</param>
/// <param name="ValidationLabels">Their ground-truth labels.</param>
/// <param name="WatchTexts">Texts whose predictions are recorded at the best validation step (the test set).</param>
public sealed record ClassifierTrainingRequest(IReadOnlyList<string> Texts, IReadOnlyList<float> Class1Targets, StudentLoss Loss, int Seed,
    IReadOnlyList<string> ValidationTexts, IReadOnlyList<int> ValidationLabels, IReadOnlyList<string> WatchTexts);

/// <summary>The result of a training run.</summary>
/// <param name="Classifier">The classifier at the end of training.</param>
/// <param name="BestStep">The step with the highest validation accuracy (the first on ties).</param>
/// <param name="BestValidationAccuracy">That accuracy.</param>
/// <param name="WatchAtBestStep">Class-1 probabilities of the watched texts at <paramref name="BestStep"/>.</param>
/// <param name="Curve">(step, training loss, validation accuracy) at each evaluation.</param>
public sealed record ClassifierTrainingOutcome(ITextClassifier Classifier, int BestStep, double BestValidationAccuracy, float[] WatchAtBestStep,
    IReadOnlyList<(int Step, double Loss, double ValidationAccuracy)> Curve);

/// <summary>
/// A kind of model that can be trained as a binary text classifier, so weak, intermediate and strong models of any
/// family (Farabi GPTs, frozen towers with probes, ...) plug into <see cref="WeakToStrongExperiment"/> alike.
/// </summary>
public interface IClassifierFamily
{
    /// <summary>Short name used in tables and <c>results.json</c> (e.g. <c>gpt-tiny</c>).</summary>
    string Name { get; }

    /// <summary>Trains a fresh classifier of this family (from the family's pretrained weights, if any).</summary>
    ClassifierTrainingOutcome Train(ClassifierTrainingRequest request);
}

/// <summary>
/// The validation bookkeeping every family's training loop shares: at each check, the classifier's validation
/// accuracy joins the curve, and the first best step keeps the watched texts' predictions, so that the experiment can
/// report "at the best step" next to "at the end".
/// </summary>
public sealed class BestStepTracker(ClassifierTrainingRequest request, ITextClassifier classifier)
{
    readonly List<(int Step, double Loss, double ValidationAccuracy)> curve = [];
    int bestStep;
    double bestAccuracy = double.NegativeInfinity;
    float[] bestWatch = [];

    /// <summary>Scores the classifier on the validation texts after <paramref name="step"/> (training loss <paramref name="loss"/>).</summary>
    public void Check(int step, double loss)
    {
        var accuracy = request.ValidationTexts.Count == 0 ? double.NaN
            : ClassifierMetrics.Accuracy(classifier.PredictClass1(request.ValidationTexts), request.ValidationLabels);
        curve.Add((step, loss, accuracy));
        if (accuracy > bestAccuracy || bestStep == 0)
        {
            (bestAccuracy, bestStep) = (accuracy, step);
            bestWatch = classifier.PredictClass1(request.WatchTexts);
        }
    }

    /// <summary>The outcome: the classifier as it ends, the best step, its accuracy and watched predictions, and the curve.</summary>
    public ClassifierTrainingOutcome Outcome() => new(classifier, bestStep, bestAccuracy, bestWatch, curve);
}

using Farabi.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Farabi.Research.WeakToStrong.Vision;

/// <summary>A trained K-class image classifier: the weak supervisor, an intermediate, the student or the ceiling.</summary>
public interface IImageClassifier : IDisposable
{
    /// <summary>Class probabilities (K per example, summing to 1) of each example.</summary>
    float[][] PredictProbabilities(ImageExamples examples);
}

/// <summary>
/// One training run: examples with soft targets (one-hot for ground truth, the supervisor's softmax for weak labels),
/// the loss, and the sets to watch. Every <c>EvalEvery</c> steps of the family the classifier is scored on
/// <see cref="Validation"/> (ground truth); the predictions on <see cref="Watch"/> (the test set) at the best validation
/// step are kept so that a metric "at the best step" can be reported next to the one at the end.
/// </summary>
/// <param name="Train">Training examples.</param>
/// <param name="Targets">Target distribution over the K classes per training example.</param>
/// <param name="Loss">The student loss.</param>
/// <param name="Seed">Fixes initialisation and batch order.</param>
/// <param name="Validation">Examples (with ground truth) for early-stopping selection.</param>
/// <param name="Watch">Examples whose predictions are recorded at the best validation step.</param>
/// <param name="AlphaMax">Final weight of the confidence term of <see cref="StudentLoss.AuxConf"/>.</param>
public sealed record ImageTrainingRequest(ImageExamples Train, IReadOnlyList<float[]> Targets, StudentLoss Loss, int Seed,
    ImageExamples Validation, ImageExamples Watch, double AlphaMax = WeakToStrongLoss.DefaultAlphaMax);

/// <summary>The result of a training run.</summary>
/// <param name="Classifier">The classifier at the end of training.</param>
/// <param name="BestStep">The step with the highest validation accuracy (the first on ties).</param>
/// <param name="BestValidationAccuracy">That accuracy.</param>
/// <param name="WatchAtBestStep">Class probabilities of the watched examples at <paramref name="BestStep"/>.</param>
/// <param name="Curve">(step, training loss, validation accuracy) at each evaluation.</param>
public sealed record ImageTrainingOutcome(IImageClassifier Classifier, int BestStep, double BestValidationAccuracy, float[][] WatchAtBestStep,
    IReadOnlyList<(int Step, double Loss, double ValidationAccuracy)> Curve);

/// <summary>
/// A kind of model that can be trained as a K-class image classifier, so that CNNs trained from pixels and probes on
/// frozen features plug into <see cref="VisionWeakToStrongExperiment"/> alike.
/// </summary>
public interface IImageClassifierFamily
{
    /// <summary>Short name used in tables and <c>results.json</c> (e.g. <c>cnn-small</c>, <c>resnet18-linear</c>).</summary>
    string Name { get; }

    /// <summary>Trains a fresh classifier of this family.</summary>
    ImageTrainingOutcome Train(ImageTrainingRequest request);
}

/// <summary>How a family trains: AdamW steps over shuffled mini-batches.</summary>
/// <param name="Steps">Optimizer steps per training run.</param>
/// <param name="BatchSize">Examples per step.</param>
/// <param name="LearningRate">AdamW peak learning rate (cosine decay to 10% of it).</param>
/// <param name="WeightDecay">AdamW decoupled weight decay.</param>
/// <param name="EvalEvery">Steps between validation checks (the last step is always checked).</param>
public sealed record ImageTrainingOptions(int Steps, int BatchSize, double LearningRate, double WeightDecay, int EvalEvery);

/// <summary>
/// A module from a prepared input tensor to logits, and how to prepare that tensor from examples: a classifier that
/// any family can hand out once trained.
/// </summary>
sealed class TensorImageClassifier(nn.Module<Tensor, Tensor> model, Func<ImageExamples, Tensor> inputs) : IImageClassifier
{
    public nn.Module<Tensor, Tensor> Model => model;

    public Func<ImageExamples, Tensor> Inputs => inputs;

    public float[][] PredictProbabilities(ImageExamples examples)
    {
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = inputs(examples);
        var result = new float[examples.Count][];
        for (var start = 0; start < examples.Count; start += 256)
        {
            using var step = NewDisposeScope();
            var count = Math.Min(256, examples.Count - start);
            var probabilities = model.forward(x.narrow(0, start, count)).softmax(1).contiguous().data<float>().ToArray();
            var k = probabilities.Length / count;
            for (var i = 0; i < count; i++) result[start + i] = probabilities.AsSpan(i * k, k).ToArray();
        }
        return result;
    }

    public void Dispose() => model.Dispose();
}

/// <summary>
/// The training loop shared by the vision families: mini-batches drawn by epochs (seeded), the multi-class student loss
/// with progress counted before the step (so α starts at 0), cosine learning-rate decay, and validation checks that keep
/// the watched set's predictions at the best step.
/// </summary>
static class ImageClassifierTrainer
{
    public static ImageTrainingOutcome Fit(TensorImageClassifier classifier, ImageTrainingRequest request, ImageTrainingOptions options,
        Func<Tensor, Random, Tensor>? augment = null)
    {
        if (request.Train.Count == 0) throw new ArgumentException("The training set is empty.");
        if (request.Targets.Count != request.Train.Count) throw new ArgumentException($"{request.Train.Count} training examples for {request.Targets.Count} targets.");
        if (request.Targets.Any(t => t.Length != request.Train.Classes))
            throw new ArgumentException($"Every target must be a distribution over the {request.Train.Classes} classes.");
        if (options.Steps < 1 || options.BatchSize < 1) throw new ArgumentException($"Steps ({options.Steps}) and batch size ({options.BatchSize}) must be positive.");
        var model = classifier.Model;
        using var inputs = classifier.Inputs(request.Train);
        using var targets = tensor(request.Targets.SelectMany(t => t).ToArray(), [request.Train.Count, request.Train.Classes]);
        // Decay on weight matrices and kernels only, not on biases (Farabi's AdamW, the same update as torch.optim.AdamW).
        using var optimizer = new AdamW(model.named_parameters().Where(p => p.parameter.requires_grad)
            .Select(p => (p.name, p.parameter, p.parameter.dim() >= 2)), 0.9, 0.999, 1e-8, options.WeightDecay);
        var random = new Random(request.Seed);
        var order = Enumerable.Range(0, request.Train.Count).ToArray();
        var cursor = order.Length;
        var batchSize = Math.Min(options.BatchSize, order.Length);
        var curve = new List<(int, double, double)>();
        var bestStep = 0;
        var bestAccuracy = double.NegativeInfinity;
        float[][] bestWatch = [];
        for (var step = 1; step <= options.Steps; step++)
        {
            model.train();
            var batch = new long[batchSize];
            for (var b = 0; b < batchSize; b++)
            {
                if (cursor == order.Length) { random.Shuffle(order); cursor = 0; }
                batch[b] = order[cursor++];
            }
            // Cosine decay to a tenth of the peak: late steps refine instead of jumping between minima.
            var progress = (step - 1) / (double)options.Steps;
            var learningRate = options.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
            double loss;
            using (NewDisposeScope())
            {
                var index = tensor(batch);
                var x = inputs.index_select(0, index);
                if (augment != null) x = augment(x, random);
                optimizer.ZeroGrad();
                var l = MultiClassWeakToStrongLoss.Compute(request.Loss, model.forward(x), targets.index_select(0, index), progress, request.AlphaMax);
                l.backward();
                optimizer.Step(learningRate);
                loss = l.item<float>();
            }
            if (step == options.Steps || (options.EvalEvery > 0 && step % options.EvalEvery == 0))
            {
                var accuracy = request.Validation.Count == 0 ? double.NaN
                    : MultiClassMetrics.Accuracy(classifier.PredictProbabilities(request.Validation), request.Validation.Labels);
                curve.Add((step, loss, accuracy));
                if (accuracy > bestAccuracy || bestStep == 0)
                {
                    bestAccuracy = accuracy;
                    bestStep = step;
                    bestWatch = request.Watch.Count == 0 ? [] : classifier.PredictProbabilities(request.Watch);
                }
            }
        }
        return new ImageTrainingOutcome(classifier, bestStep, bestAccuracy, bestWatch, curve);
    }
}

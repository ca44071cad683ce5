using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Research.WeakToStrong.Vision;

/// <summary>
/// A probe on frozen features: one linear layer (the paper's linear-probe setting) or, with <c>hidden</c> &gt; 0, a
/// one-hidden-layer MLP with ReLU.
/// </summary>
public sealed class FeatureProbe : nn.Module<Tensor, Tensor>
{
    readonly Linear? fc1;
    readonly Linear fc2;

    /// <summary>A probe from <paramref name="inputs"/> features to <paramref name="classes"/> logits.</summary>
    public FeatureProbe(int inputs, int hidden, int classes) : base(nameof(FeatureProbe))
    {
        if (inputs < 1 || hidden < 0 || classes < 2) throw new ArgumentException($"A probe needs ≥ 1 input, hidden ≥ 0 and ≥ 2 classes (got {inputs}, {hidden}, {classes}).");
        if (hidden > 0) fc1 = nn.Linear(inputs, hidden);
        fc2 = nn.Linear(hidden > 0 ? hidden : inputs, classes);
        RegisterComponents();
    }

    /// <summary>Logits <c>[B, classes]</c> of standardised features <c>[B, inputs]</c>.</summary>
    public override Tensor forward(Tensor x) => fc2.forward(fc1 == null ? x : nn.functional.relu(fc1.forward(x)));
}

/// <summary>
/// Probes on a frozen tower's cached features (e.g. ResNet18's 512-d ImageNet features) as an
/// <see cref="IImageClassifierFamily"/>. Each run standardises the features with its training set's mean and standard
/// deviation and trains a fresh seeded probe; images are never read, so a probe costs milliseconds per step once the
/// features are cached. Presets: <c>resnet18-linear</c> and <c>resnet18-mlp</c> (hidden 256).
/// </summary>
public sealed class ProbeClassifierFamily : IImageClassifierFamily
{
    /// <summary>A family named <paramref name="name"/>; <paramref name="hidden"/> = 0 is a linear probe.</summary>
    public ProbeClassifierFamily(string name, int hidden, ImageTrainingOptions options)
    {
        Name = name;
        Hidden = hidden;
        Options = options;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Hidden units (0: linear probe).</summary>
    public int Hidden { get; }

    /// <summary>Training settings.</summary>
    public ImageTrainingOptions Options { get; }

    /// <summary>Default training: 400 steps of 128 examples (about 23 epochs of 2,250), lr 1e-3, weight decay 0.01.</summary>
    public static ImageTrainingOptions DefaultOptions => new(Steps: 400, BatchSize: 128, LearningRate: 1e-3, WeightDecay: 1e-2, EvalEvery: 20);

    /// <summary><c>resnet18-linear</c> or <c>resnet18-mlp</c>.</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static ProbeClassifierFamily Preset(string name, ImageTrainingOptions? options = null) => name switch
    {
        "resnet18-linear" => new ProbeClassifierFamily(name, 0, options ?? DefaultOptions),
        "resnet18-mlp" => new ProbeClassifierFamily(name, 256, options ?? DefaultOptions),
        _ => throw new ArgumentException($"Unknown probe '{name}'; expected resnet18-linear or resnet18-mlp."),
    };

    /// <inheritdoc/>
    public ImageTrainingOutcome Train(ImageTrainingRequest request)
    {
        var features = request.Train.Features;
        if (features == null || features.Count == 0) throw new ArgumentException($"{Name} trains on cached features, but the training examples carry none.");
        var dimension = features[0].Length;
        // Standardisation statistics from this run's training set only, so no validation or test data leaks in.
        var mean = new float[dimension];
        var std = new float[dimension];
        foreach (var f in features) for (var j = 0; j < dimension; j++) mean[j] += f[j] / features.Count;
        foreach (var f in features) for (var j = 0; j < dimension; j++) std[j] += (f[j] - mean[j]) * (f[j] - mean[j]) / features.Count;
        for (var j = 0; j < dimension; j++) std[j] = MathF.Sqrt(std[j]) + 1e-6f;

        Tensor Inputs(ImageExamples examples)
        {
            if (examples.Features == null) throw new ArgumentException($"{Name} reads cached features, but these examples carry none.");
            if (examples.Count > 0 && examples.Features[0].Length != dimension)
                throw new ArgumentException($"{Name} was trained on {dimension}-d features, not {examples.Features[0].Length}-d.");
            using var scope = NewDisposeScope();
            var x = tensor(examples.Features.SelectMany(f => f).ToArray(), [examples.Count, dimension]);
            return ((x - tensor(mean)) / tensor(std)).MoveToOuterDisposeScope();
        }

        manual_seed(request.Seed);
        var classifier = new TensorImageClassifier(new FeatureProbe(dimension, Hidden, request.Train.Classes), Inputs);
        try
        {
            return ImageClassifierTrainer.Fit(classifier, request, Options);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }
}

using Farabi.Vision;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Research.WeakToStrong.Vision;

/// <summary>
/// A small convolutional network trained from scratch: <c>convLayers</c> blocks of 3×3 convolution (padding 1), ReLU
/// and 2×2 max-pooling, doubling the channels from <c>width</c>, then one linear layer on the flattened map. In the
/// weak-to-strong vision setting it plays the paper's AlexNet: a model that learns the task from pixels, but far less
/// well than a linear probe on strong pretrained features.
/// </summary>
public sealed class SmallCnn : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<Conv2d> convs = new();
    readonly Linear fc;

    /// <summary>A network for <paramref name="imageSize"/>×<paramref name="imageSize"/> RGB inputs and <paramref name="classes"/> outputs.</summary>
    /// <exception cref="ArgumentException">The image side does not halve <paramref name="convLayers"/> times.</exception>
    public SmallCnn(int convLayers, int width, int classes, int imageSize = 32) : base(nameof(SmallCnn))
    {
        if (convLayers < 1 || width < 1 || classes < 2) throw new ArgumentException($"A CNN needs ≥ 1 layer, width ≥ 1 and ≥ 2 classes (got {convLayers}, {width}, {classes}).");
        if (imageSize % (1 << convLayers) != 0) throw new ArgumentException($"Images of side {imageSize} cannot be halved {convLayers} times.");
        var channels = 3;
        for (var l = 0; l < convLayers; l++)
        {
            var outChannels = width << l;
            convs.Add(nn.Conv2d(channels, outChannels, 3, padding: 1));
            channels = outChannels;
        }
        var side = imageSize >> convLayers;
        fc = nn.Linear(channels * side * side, classes);
        RegisterComponents();
    }

    /// <summary>Logits <c>[B, classes]</c> of normalised images <c>[B, 3, size, size]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        foreach (var conv in convs) x = nn.functional.max_pool2d(nn.functional.relu(conv.forward(x)), 2);
        return fc.forward(x.flatten(1));
    }
}

/// <summary>
/// <see cref="SmallCnn"/>s of one shape as an <see cref="IImageClassifierFamily"/>: each run starts from a fresh seeded
/// initialisation and trains on the examples' images (per-channel normalisation with the CIFAR-10 statistics, random
/// horizontal flips). Presets: <c>cnn-tiny</c> (2 layers, width 8) and <c>cnn-small</c> (3 layers, width 16).
/// </summary>
public sealed class CnnClassifierFamily : IImageClassifierFamily
{
    // Per-channel mean and standard deviation of the CIFAR-10 training pixels in [0, 1] (the values torchvision examples use).
    static readonly float[] Mean = [0.4914f, 0.4822f, 0.4465f];
    static readonly float[] Std = [0.2470f, 0.2435f, 0.2616f];

    /// <summary>A family named <paramref name="name"/>.</summary>
    public CnnClassifierFamily(string name, int convLayers, int width, ImageTrainingOptions options)
    {
        Name = name;
        ConvLayers = convLayers;
        Width = width;
        Options = options;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Convolution blocks.</summary>
    public int ConvLayers { get; }

    /// <summary>Channels of the first block (doubled per block).</summary>
    public int Width { get; }

    /// <summary>Training settings.</summary>
    public ImageTrainingOptions Options { get; }

    /// <summary>Default training: 300 steps of 64 images (about 8 epochs of 2,250 images), lr 2e-3.</summary>
    public static ImageTrainingOptions DefaultOptions => new(Steps: 300, BatchSize: 64, LearningRate: 2e-3, WeightDecay: 1e-4, EvalEvery: 100);

    /// <summary><c>cnn-tiny</c> or <c>cnn-small</c>.</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static CnnClassifierFamily Preset(string name, ImageTrainingOptions? options = null) => name switch
    {
        "cnn-tiny" => new CnnClassifierFamily(name, 2, 8, options ?? DefaultOptions),
        "cnn-small" => new CnnClassifierFamily(name, 3, 16, options ?? DefaultOptions),
        _ => throw new ArgumentException($"Unknown CNN '{name}'; expected cnn-tiny or cnn-small."),
    };

    /// <summary>The normalised <c>[N, 3, H, W]</c> batch of the examples' images.</summary>
    /// <exception cref="ArgumentException">The examples carry no images.</exception>
    public static Tensor Inputs(ImageExamples examples)
    {
        if (examples.Images == null) throw new ArgumentException("A CNN trains on images, but these examples carry only features.");
        using var scope = NewDisposeScope();
        var mean = tensor(Mean).view(1, 3, 1, 1);
        var std = tensor(Std).view(1, 3, 1, 1);
        return ((ImageTensor.Batch(examples.Images) - mean) / std).MoveToOuterDisposeScope();
    }

    /// <summary>Flips a seeded random half of the batch left–right (the standard CIFAR augmentation; labels are unchanged).</summary>
    static Tensor FlipHalf(Tensor x, Random random)
    {
        var flip = Enumerable.Range(0, (int)x.shape[0]).Select(_ => random.Next(2) == 1).ToArray();
        return where(tensor(flip).view(-1, 1, 1, 1), x.flip(3), x);
    }

    /// <inheritdoc/>
    public ImageTrainingOutcome Train(ImageTrainingRequest request)
    {
        if (request.Train.Images == null || request.Train.Count == 0) throw new ArgumentException($"{Name} needs training images.");
        var image = request.Train.Images[0];
        if (image.Width != image.Height) throw new ArgumentException($"{Name} takes square images, not {image.Width}×{image.Height}.");
        manual_seed(request.Seed);
        var classifier = new TensorImageClassifier(new SmallCnn(ConvLayers, Width, request.Train.Classes, image.Width), Inputs);
        try
        {
            return ImageClassifierTrainer.Fit(classifier, request, Options, FlipHalf);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }
}

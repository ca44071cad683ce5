using Farabi.Vision;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Farabi.Towers;

/// <summary>
/// ImageNet-trained ResNet18 (He et al., 2016) as a frozen image tower: the two ONNX graphs that the
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> package copies beside the application — a preprocessing graph
/// (per-channel mean subtraction on 0–255 RGB) and the network up to its global average pool — giving 512 features
/// per image. Images are resized on their shortest side to 224 and centre-cropped. The graphs are fixed at batch 1
/// and 224×224, so images go through one at a time.
/// </summary>
public sealed class ResNet18Featurizer : IImageEmbedder
{
    /// <summary>Side of the square input the graphs are fixed at.</summary>
    public const int InputSize = 224;

    readonly InferenceSession preprocess;
    readonly InferenceSession network;
    readonly ClipPreprocess resize = new(ClipPreprocessOptions.Unnormalised(InputSize));

    /// <summary>Loads the graphs from <paramref name="modelDirectory"/> (default: <see cref="DefaultModelDirectory"/>).</summary>
    /// <param name="threads">ONNX Runtime intra-op threads (0 = one per core).</param>
    /// <param name="modelDirectory">The folder holding <c>ResNetPrepOnnx/</c> and <c>ResNet18Onnx/</c>.</param>
    public ResNet18Featurizer(int threads = 1, string? modelDirectory = null)
    {
        var directory = modelDirectory ?? DefaultModelDirectory;
        string prepPath = Path.Combine(directory, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        string netPath = Path.Combine(directory, "ResNet18Onnx", "ResNet18.onnx");
        foreach (var path in new[] { prepPath, netPath })
            if (!File.Exists(path))
                throw new FileNotFoundException($"ResNet18 model file '{path}' is missing; it is copied beside the application by the Microsoft.ML.DnnImageFeaturizer.ResNet18 package.", path);
        using var options = OnnxSessions.Create(threads);
        preprocess = new InferenceSession(prepPath, options);
        network = new InferenceSession(netPath, options);
    }

    /// <summary>Where the package's build step puts the ONNX files: <c>DnnImageModels/</c> beside the application.</summary>
    public static string DefaultModelDirectory => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    /// <inheritdoc/>
    public string Name => "resnet18-imagenet";

    /// <inheritdoc/>
    public int Dimension => 512;

    /// <summary>The 224×224 RGB pixels (0–255, channel-major) the network is given for <paramref name="image"/>.</summary>
    public float[] InputPixels(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var square = resize.ResizeAndCrop(image);
        int plane = InputSize * InputSize;
        var chw = new float[3 * plane];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) chw[c * plane + i] = square.Pixels[i * 3 + c];
        return chw;
    }

    /// <inheritdoc/>
    public float[][] Embed(IReadOnlyList<RgbImage> images, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var result = new float[images.Count][];
        int[] shape = [1, 3, InputSize, InputSize];
        for (int i = 0; i < images.Count; i++)
        {
            var pixels = new DenseTensor<float>(InputPixels(images[i]), shape);
            using var prepared = preprocess.Run([NamedOnnxValue.CreateFromTensor(preprocess.InputNames[0], pixels)]);
            var normalised = prepared.First().AsTensor<float>();
            using var pooled = network.Run([NamedOnnxValue.CreateFromTensor(network.InputNames[0], normalised)]);
            result[i] = pooled.First().AsTensor<float>().ToArray();
            progress?.Report(i + 1);
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        preprocess.Dispose();
        network.Dispose();
    }
}

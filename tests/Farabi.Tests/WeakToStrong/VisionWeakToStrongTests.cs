using System.CommandLine;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Farabi.Cli;
using Farabi.Research.WeakToStrong;
using Farabi.Research.WeakToStrong.Vision;
using Farabi.Vision;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.WeakToStrong;

// The CNN and probes seed torch's global generator; beside other tests the reproduction check would race.
[Collection(nameof(Farabi.Tests.Training.GlobalTorchRng))]
public class VisionWeakToStrongTests
{
    static ImageTrainingOptions Quick(int steps, double lr = 1e-2) => new(Steps: steps, BatchSize: 16, LearningRate: lr, WeightDecay: 0, EvalEvery: 5);

    /// <summary>
    /// A K-class toy task: each class has a colour (images, <paramref name="side"/>² pixels) and a Gaussian cluster
    /// centre in feature space (<paramref name="dimension"/>-d), with noise so neither view is trivially perfect.
    /// </summary>
    static ImageExamples Toy(int count, int classes, int seed, int side = 8, int dimension = 6, bool images = true, bool features = true, double noise = 0.8)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, classes).Select(k => Enumerable.Range(0, dimension).Select(j => j % classes == k ? 2f : 0f).ToArray()).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        var imageList = images ? labels.Select(l =>
        {
            var pixels = new byte[side * side * 3];
            for (var i = 0; i < pixels.Length; i++) pixels[i] = (byte)Math.Clamp((i % 3 == l % 3 ? 180 : 60) + random.Next(-50, 50), 0, 255);
            return new RgbImage(side, side, pixels);
        }).ToList() : null;
        var featureList = features ? labels.Select(l => centres[l].Select(c => c + (float)(noise * Gaussian(random))).ToArray()).ToList() : null;
        return new ImageExamples(imageList, featureList, labels, classes);
    }

    static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    static Tensor Ce(Tensor logits, Tensor targets) => -(targets * logits.log_softmax(1)).sum(1).mean();

    [Fact]
    public void Multi_class_hardening_is_the_one_hot_of_the_argmax()
    {
        using var logits = tensor(new float[] { 0.1f, 2f, -1f, 0f, 3f, 3.5f, 5f, -2f, 1f, 0.2f, 0.3f, 0.1f }, [4, 3]);
        using var hard = MultiClassWeakToStrongLoss.HardenToArgmax(logits);
        Assert.Equal(new float[] { 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0 }, hard.data<float>().ToArray());
        Assert.False(hard.requires_grad);
    }

    [Fact]
    public void Aux_conf_is_cross_entropy_at_alpha_zero_and_mixes_in_the_argmax_target_along_the_ramp()
    {
        _ = new ImageExamples(null, null, [0, 1], 2); // touch a Farabi type so libtorch loads
        manual_seed(5);
        using var logits = randn(8, 4);
        using var targets = randn(8, 4).softmax(1);
        using var hard = MultiClassWeakToStrongLoss.HardenToArgmax(logits);
        var xent = Ce(logits, targets).item<float>();
        var self = Ce(logits, hard).item<float>();
        Assert.NotEqual(xent, self, 3);
        Assert.Equal(xent, MultiClassWeakToStrongLoss.Compute(StudentLoss.Xent, logits, targets, 0.7).item<float>(), 5);
        // α = 0 at the start of training: the confidence loss is plain cross-entropy on the weak labels.
        Assert.Equal(xent, MultiClassWeakToStrongLoss.Compute(StudentLoss.AuxConf, logits, targets, 0.0).item<float>(), 5);
        // Half-way through the warm-up (10% of 20%), α = 0.25 of α_max 0.5; after it, 0.5.
        Assert.Equal(0.75 * xent + 0.25 * self, MultiClassWeakToStrongLoss.Compute(StudentLoss.AuxConf, logits, targets, 0.1).item<float>(), 5);
        Assert.Equal(0.5 * xent + 0.5 * self, MultiClassWeakToStrongLoss.Compute(StudentLoss.AuxConf, logits, targets, 0.9).item<float>(), 5);
        Assert.Equal(self, MultiClassWeakToStrongLoss.Compute(StudentLoss.AuxConf, logits, targets, 0.9, alphaMax: 1).item<float>(), 5);
    }

    [Fact]
    public void Product_loss_targets_the_renormalised_product_of_student_and_supervisor()
    {
        _ = new ImageExamples(null, null, [0, 1], 2);
        using var logits = tensor(new float[] { 1f, 0f, -1f }, [1, 3]);
        using var targets = tensor(new float[] { 0.2f, 0.3f, 0.5f }, [1, 3]);
        var p = logits.softmax(1).data<float>().ToArray();
        var product = new[] { p[0] * 0.2f, p[1] * 0.3f, p[2] * 0.5f };
        var logP = logits.log_softmax(1).data<float>().ToArray();
        var expected = -Enumerable.Range(0, 3).Sum(k => product[k] / product.Sum() * logP[k]);
        Assert.Equal(expected, MultiClassWeakToStrongLoss.Compute(StudentLoss.Product, logits, targets, 0.5).item<float>(), 5);
    }

    [Fact]
    public void Small_cnn_maps_images_to_one_logit_per_class()
    {
        _ = new ImageExamples(null, null, [0, 1], 2);
        using var small = new SmallCnn(3, 16, 10);
        using var x = randn(2, 3, 32, 32);
        Assert.Equal(new long[] { 2, 10 }, small.forward(x).shape);
        using var tiny = new SmallCnn(2, 8, 3, imageSize: 8);
        Assert.Equal(new long[] { 5, 3 }, tiny.forward(randn(5, 3, 8, 8)).shape);
        Assert.Throws<ArgumentException>(() => new SmallCnn(3, 8, 10, imageSize: 12));
    }

    [Fact]
    public void Probe_trains_from_features_alone_and_the_cnn_refuses_examples_without_images()
    {
        var train = Toy(120, 3, seed: 1, images: false);
        var test = Toy(60, 3, seed: 2, images: false);
        Assert.Null(train.Images);
        var probe = new ProbeClassifierFamily("probe", 0, Quick(60));
        var outcome = probe.Train(new ImageTrainingRequest(train, train.OneHotTargets(), StudentLoss.Xent, 0, test, test));
        using (outcome.Classifier)
        {
            var probabilities = outcome.Classifier.PredictProbabilities(test);
            Assert.All(probabilities, row => Assert.Equal(1f, row.Sum(), 4));
            Assert.True(MultiClassMetrics.Accuracy(probabilities, test.Labels) > 0.8);
            Assert.Equal(60, outcome.WatchAtBestStep.Length);
        }
        var cnn = CnnClassifierFamily.Preset("cnn-tiny", Quick(2));
        var error = Assert.Throws<ArgumentException>(() => cnn.Train(new ImageTrainingRequest(train, train.OneHotTargets(), StudentLoss.Xent, 0, test, test)));
        Assert.Contains("image", error.Message);
        Assert.Throws<ArgumentException>(() => probe.Train(new ImageTrainingRequest(Toy(30, 3, 3, features: false), Toy(30, 3, 3).OneHotTargets(), StudentLoss.Xent, 0, test, test)));
    }

    [Fact]
    public void Macro_auc_averages_one_vs_rest_aucs_and_accuracy_uses_the_argmax()
    {
        float[][] p = [[0.7f, 0.2f, 0.1f], [0.2f, 0.5f, 0.3f], [0.1f, 0.6f, 0.3f], [0.3f, 0.3f, 0.4f]];
        int[] labels = [0, 1, 2, 2];
        Assert.Equal(0.75, MultiClassMetrics.Accuracy(p, labels)); // argmaxes 0, 1, 1, 2
        var perClass = Enumerable.Range(0, 3).Select(k => ClassifierMetrics.RocAuc(p.Select(r => r[k]).ToArray(), labels.Select(l => l == k ? 1 : 0).ToArray())).ToArray();
        Assert.Equal(perClass.Average(), MultiClassMetrics.MacroRocAuc(p, labels), 12);
        Assert.Equal(1.0, MultiClassMetrics.MacroRocAuc([[1f, 0f], [0f, 1f]], [0, 1]));
        Assert.Equal(0.75, MultiClassMetrics.Agreement(p, [[1f, 0f, 0f], [0f, 1f, 0f], [0f, 1f, 0f], [1f, 0f, 0f]]));
    }

    [Fact]
    public void Experiment_splits_without_leakage_and_reproduces_its_rows_by_seed()
    {
        var train = Toy(90, 3, seed: 4);
        var test = Toy(30, 3, seed: 5);
        var experiment = new VisionWeakToStrongExperiment("toy", train, test, new VisionWeakToStrongOptions(Losses: [StudentLoss.Xent, StudentLoss.AuxConf]));
        var (validation, a, b) = experiment.SplitFor(3);
        Assert.Equal(9, validation.Length);
        Assert.Equal(Enumerable.Range(0, 90), validation.Concat(a).Concat(b).Order());
        Assert.Empty(a.Intersect(b));

        var weak = CnnClassifierFamily.Preset("cnn-tiny", Quick(4));
        var strong = new ProbeClassifierFamily("probe", 0, Quick(20));
        var rows = experiment.Run(weak, strong, seed: 3);
        Assert.Equal(["xent", "aux_conf"], rows.Select(r => r.Loss));
        foreach (var r in rows)
        {
            Assert.Equal(("cnn-tiny", "probe", 3), (r.Weak, r.Strong, r.Seed));
            Assert.InRange(r.W2sAcc, 0, 1);
            Assert.Equal(PerformanceGapRecovered.Compute(r.WeakAcc, r.W2sAcc, r.CeilingAcc).Value, r.Pgr);
            Assert.Equal(r.CeilingAcc > r.WeakAcc, r.CeilingBeatsWeak);
        }
        Assert.Equal(rows, experiment.Run(weak, strong, seed: 3));
    }

    static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var root = new RootCommand("test") { W2sVisionCommands.AddTo(W2sCommands.Create()) };
        var (o, e) = (new StringWriter(), new StringWriter());
        var code = CliApp.Run(root, args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>A CIFAR-10 binary file of random images (label byte, then 1024 R, G and B bytes).</summary>
    static void WriteCifar(string path, int count, int seed)
    {
        var random = new Random(seed);
        using var file = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        var record = new byte[3073];
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(record);
            record[0] = (byte)(i % 10);
            file.Write(record);
        }
    }

    [Fact]
    public void Vision_verb_writes_results_with_the_names_scripts_read_and_names_a_missing_file()
    {
        var dir = Path.Combine(Path.GetTempPath(), "farabi-w2sv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var (code, _, err) = Cli("w2s", "vision", "--train-data", Path.Combine(dir, "absent.bin.gz"));
            Assert.Equal(2, code);
            Assert.Contains("absent.bin.gz", Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

            WriteCifar(Path.Combine(dir, "train.bin.gz"), 40, 1);
            WriteCifar(Path.Combine(dir, "test.bin.gz"), 20, 2);
            var output = Path.Combine(dir, "run");
            (code, var stdout, err) = Cli("w2s", "vision", "--train-data", Path.Combine(dir, "train.bin.gz"), "--test-data", Path.Combine(dir, "test.bin.gz"),
                "--train", "40", "--test", "20", "--weak", "cnn-tiny", "--strong", "cnn-tiny", "--losses", "xent,aux_conf", "--seeds", "2", "--cnn-steps", "2", "--out", output);
            Assert.True(code == 0, err);
            var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "results.json")))!.AsArray();
            Assert.Equal(4, rows.Count);
            foreach (var key in new[] { "weak", "strong", "loss", "seed", "weak_acc", "ceiling_acc", "w2s_acc", "pgr", "pgr_auc", "pgr_best" })
                Assert.True(rows[0]!.AsObject().ContainsKey(key), key);
            Assert.Equal(1, rows[3]!["seed"]!.GetValue<int>());
            Assert.Contains("aux_conf", stdout);
            foreach (var f in new[] { "config.json", "report.md", "accuracy.png", "pgr.png", "metrics.jsonl" }) Assert.True(File.Exists(Path.Combine(output, f)), f);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using System.CommandLine;
using System.Text;
using Farabi.Research.Clip;
using Farabi.Towers;
using Farabi.Vision.Datasets;

namespace Farabi.Cli;

/// <summary>
/// Labelled image sets (CIFAR-10, MNIST) with classes held out of training, for the CLIP trained from scratch
/// (<c>clip train --dataset cifar10|mnist</c>) and for LiT on frozen pretrained towers (<c>clip lit</c>): one
/// loader, one report (results.json, confusion matrix and similarity heatmap), so the two are compared on
/// exactly the same images, captions and probe.
/// </summary>
static partial class ClipVerbs
{
    /// <summary>Held-out classes when --hold-out is not given.</summary>
    static string[] DefaultHeldOutClasses(string dataset) => dataset == "mnist" ? ["3", "7"] : ["cat", "truck"];

    /// <summary>openai/CLIP's templates for the data set.</summary>
    static IReadOnlyList<string> ClassSetTemplates(string dataset) => dataset == "mnist" ? PromptTemplates.Mnist : PromptTemplates.Cifar10;

    /// <summary>
    /// Training and test sets of cifar10 (two files) or mnist (the 10,000-record test file split into its first
    /// 8,000 records for training and last 2,000 for testing, unless --test-data names another file).
    /// </summary>
    static (LabeledImageSet Train, LabeledImageSet Test) LoadClassSets(string dataset, string? data, string? testData, int trainLimit, int testLimit)
    {
        if (trainLimit < 2) throw new UserError($"the training set needs at least 2 images, not {trainLimit}.");
        if (testLimit < 4) throw new UserError($"the test set needs at least 4 images, not {testLimit}.");
        if (dataset == "cifar10")
        {
            var trainPath = data ?? DefaultCifarTrain;
            var testPath = testData ?? DefaultCifar;
            foreach (var path in new[] { trainPath, testPath })
                if (!File.Exists(path)) throw new FileNotFoundException($"CIFAR-10 file '{path}' does not exist; pass --data and --test-data with CIFAR-10 binary batches (.bin or .bin.gz).", path);
            return (Cifar10.Load(trainPath, trainLimit), Cifar10.Load(testPath, testLimit));
        }
        var images = data ?? DefaultMnist;
        var all = LoadMnist(images);
        if (testData is not null) return (all.Take(trainLimit), LoadMnist(testData).Take(testLimit));
        const int trainPart = 8000;
        if (all.Count < 10) throw new InvalidDataException($"the MNIST file '{images}' has only {all.Count} records.");
        var split = Math.Min(trainPart, all.Count * 4 / 5);
        var train = all.Subset(Enumerable.Range(0, Math.Min(split, trainLimit)), all.Source + " (first records)");
        var test = all.Subset(Enumerable.Range(split, Math.Min(all.Count - split, testLimit)), all.Source + " (last records)");
        return (train, test);
    }

    /// <summary>An MNIST images file and its labels file beside it (<c>*-images-idx3-ubyte*</c> → <c>*-labels-idx1-ubyte*</c>).</summary>
    static LabeledImageSet LoadMnist(string imagesPath)
    {
        if (!File.Exists(imagesPath)) throw new FileNotFoundException($"MNIST images file '{imagesPath}' does not exist; pass --data with an IDX images file (.gz allowed).", imagesPath);
        var name = Path.GetFileName(imagesPath);
        if (!name.Contains("images-idx3", StringComparison.Ordinal))
            throw new UserError($"'{imagesPath}' is not named like an MNIST images file (*-images-idx3-ubyte[.gz]), so its labels file cannot be found.");
        var labels = Path.Combine(Path.GetDirectoryName(imagesPath) ?? ".", name.Replace("images-idx3", "labels-idx1", StringComparison.Ordinal));
        if (!File.Exists(labels)) throw new FileNotFoundException($"MNIST labels file '{labels}' (beside '{imagesPath}') does not exist.", labels);
        return Mnist.Load(imagesPath, labels);
    }

    /// <summary>Progress bar and metrics.jsonl for each training step.</summary>
    static Action<ClipStepReport> StepReporter(ProgressBar progress, RunFolder run, int steps) => s =>
    {
        progress.Report(s.Step, $"loss {s.Loss:F3} scale {s.LogitScale:F1}");
        if (s.Step % 10 == 0 || s.Step == steps)
            run.AppendMetrics(new { step = s.Step, loss = s.Loss, lr = s.LearningRate, logit_scale = s.LogitScale, seconds = s.Seconds });
    };

    /// <summary>Writes loss.png, confusion-held-out.png, similarity.png, results.json and report.md; returns the headline table.</summary>
    static TextTable ReportClassSet(ClassSetResult r, string verb, string dataset, string[] held, IReadOnlyList<string> templates, LabeledImageSet test,
        int trainImages, RunFolder run, string description)
    {
        new Plots.LinePlot { Title = $"{verb}: contrastive loss ({dataset})", XLabel = "step", YLabel = "InfoNCE loss", Markers = false }
            .Add("train", r.Losses.ToList()).SavePng(run.File("loss.png"));
        SaveConfusion(r.ZeroShotUnseen, run.File("confusion-held-out.png"), $"Zero-shot on held-out {dataset} classes (rows: true, columns: predicted)");
        SaveClassSimilarity(r.Scorer, test, templates[0], run.File("similarity.png"));
        run.WriteJson("results.json", new
        {
            dataset, zero_shot_top1 = r.ZeroShotUnseen.Top1, zero_shot_top5 = r.ZeroShotUnseen.Top5, zero_shot_seen_top1 = r.ZeroShotSeen.Top1,
            probe_top1 = r.ProbeUnseenTop1, probe_seen_top1 = r.ProbeSeenTop1, chance = r.Chance, held_out_classes = held,
            zero_shot_among_held_out_top1 = r.ZeroShotUnseenAmongUnseen.Top1, chance_among_held_out = r.UnseenChance,
            seen_unseen_auc = r.SeenUnseenArea, calibrated_best_h = r.BestCalibrated.HarmonicMean,
            calibrated_best_seen_top1 = r.BestCalibrated.SeenAccuracy, calibrated_best_held_out_top1 = r.BestCalibrated.UnseenAccuracy,
            classes = test.ClassNames.Count, train_images = trainImages, test_images = test.Count, templates = templates.Count,
            final_loss = r.Losses.Count > 0 ? r.Losses[^1] : double.NaN, train_seconds = r.TrainSeconds,
        });
        var table = new TextTable($"{dataset} test images", "zero-shot top-1", "zero-shot top-5", "linear probe top-1", "chance")
            .Add($"held-out classes ({string.Join(", ", held)})", r.ZeroShotUnseen.Top1, r.ZeroShotUnseen.Top5, r.ProbeUnseenTop1, r.Chance)
            .Add("training classes", r.ZeroShotSeen.Top1, r.ZeroShotSeen.Top5, r.ProbeSeenTop1, r.Chance)
            .Add("held-out classes, among held-out names only", r.ZeroShotUnseenAmongUnseen.Top1, "", "", r.UnseenChance)
            .Add($"calibrated stacking, best γ (seen {r.BestCalibrated.SeenAccuracy:F3}; upper bound)", r.BestCalibrated.UnseenAccuracy, "", "", r.Chance);
        var curve = r.SeenUnseenCurve.OrderBy(p => p.UnseenAccuracy).ToList();
        new Plots.LinePlot { Title = $"{verb}: seen vs held-out accuracy as γ varies (AUSUC {r.SeenUnseenArea:F3})", XLabel = "held-out classes top-1", YLabel = "seen classes top-1", Markers = false }
            .Add("calibrated stacking", curve.Select(p => p.UnseenAccuracy).ToList(), curve.Select(p => p.SeenAccuracy).ToList()).SavePng(run.File("seen-unseen.png"));
        run.WriteReport(new StringBuilder()
            .AppendLine($"# {verb} ({dataset}, held-out classes)").AppendLine()
            .AppendLine(description).AppendLine()
            .AppendLine($"Zero-shot picks among all {test.ClassNames.Count} class names ({templates.Count} templates ensembled; the generalized " +
                        "protocol, where seen classes compete), or, in the last row, only among the held-out names (the classic protocol). The linear " +
                        "probe is fitted on the model's image embeddings of a random half of the test images (every class) and scored on the other half. " +
                        "Calibrated stacking (Chao et al., 2016) subtracts a constant γ from the seen classes' scores; `seen-unseen.png` traces both " +
                        $"accuracies over γ, with area {r.SeenUnseenArea:F3} (AUSUC); the best-γ row picks γ on the test labels, so it is an upper bound.").AppendLine()
            .Append(table.ToMarkdown()).AppendLine()
            .AppendLine("![loss](loss.png)").AppendLine("![confusion](confusion-held-out.png)").AppendLine("![similarity](similarity.png)")
            .AppendLine("![seen-unseen](seen-unseen.png)").ToString());
        return table;
    }

    /// <summary>Cosine similarity of the first test image of each class (rows) with each class's prompt (columns).</summary>
    static void SaveClassSimilarity(IImageTextScorer scorer, LabeledImageSet test, string template, string path)
    {
        var classes = Enumerable.Range(0, test.ClassNames.Count).Where(c => test.Labels.Contains(c)).ToList();
        var picks = classes.Select(c => test.Labels.ToList().IndexOf(c)).ToList();
        var prompts = test.ClassNames.Select(n => LabeledImageSet.Caption(template, n)).ToList();
        var sim = scorer.Similarity(picks.Select(i => test.Images[i]).ToList(), prompts);
        new Plots.Heatmap
        {
            Title = "Cosine similarity: one test image per class (rows) vs class prompts", RowLabels = classes.Select(c => "img: " + test.ClassNames[c]).ToList(),
            ColumnLabels = prompts, Width = Math.Max(800, 90 * prompts.Count + 240), Height = Math.Max(400, 40 * classes.Count + 240),
        }.SetValues(sim).SavePng(path);
    }

    static Command Lit()
    {
        var d = new LitOptions();
        var dataset = new Option<string>("--dataset") { Description = "cifar10 or mnist.", DefaultValueFactory = _ => "cifar10" };
        dataset.AcceptOnlyFromAmong("cifar10", "mnist");
        var data = new Option<string?>("--data") { Description = "Training images (default " + DefaultCifarTrain + " or " + DefaultMnist + ")." };
        var testData = new Option<string?>("--test-data") { Description = "Test images (default " + DefaultCifar + "; mnist: the last 2000 records of --data)." };
        var holdOut = new Option<string[]>("--hold-out") { Description = "A class never shown in training (repeatable); default cat, truck (mnist: 3, 7).", Arity = ArgumentArity.ZeroOrMore };
        var trainImages = new Option<int>("--train-images") { Description = "Training images read (the held-out classes' are then dropped).", DefaultValueFactory = _ => 4000 };
        var testImages = new Option<int>("--test-images") { Description = "Test images read.", DefaultValueFactory = _ => 2000 };
        var steps = new Option<int>("--steps") { Description = "Optimiser steps.", DefaultValueFactory = _ => d.Training.Steps };
        var batch = new Option<int>("--batch-size") { Description = "Pairs per batch.", DefaultValueFactory = _ => d.Training.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => d.Training.LearningRate };
        var weightDecay = new Option<double>("--weight-decay") { Description = "Decoupled weight decay on the projection matrices.", DefaultValueFactory = _ => d.Training.WeightDecay };
        var projection = new Option<int>("--projection-dim") { Description = "Width of the shared space.", DefaultValueFactory = _ => d.ProjectionDim };
        var hidden = new Option<int>("--hidden-dim") { Description = "0: linear projections; else the hidden width of a small MLP on each side.", DefaultValueFactory = _ => 0 };
        var noTextProjection = new Option<bool>("--no-text-projection")
        {
            Description = "Map image features into MiniLM's own space (DeViSE-style) instead of training a text projection too.",
        };
        var cache = new Option<string?>("--cache") { Description = "Folder of cached tower features (default $FARABI_CACHE/embeddings or ~/.cache/farabi/embeddings)." };
        var seed = new Option<long>("--seed") { Description = "Seed of captions, initialisation and batch order.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Threads for ONNX Runtime and libtorch.", DefaultValueFactory = _ => 1 };
        var outDir = new Option<string?>("--out") { Description = "Run folder (default runs/clip-lit-<timestamp>)." };
        var command = new Command("lit", "LiT: train only projections (and the temperature) on frozen ResNet18 image and MiniLM text features; zero-shot on held-out classes vs probe vs chance.")
        {
            dataset, data, testData, holdOut, trainImages, testImages, steps, batch, lr, weightDecay, projection, hidden, noTextProjection, cache, seed, threads, outDir,
        };
        command.SetAction((parse, cancel) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var ds = parse.GetValue(dataset)!;
            var held = parse.GetValue(holdOut) is { Length: > 0 } h ? h : DefaultHeldOutClasses(ds);
            var n = parse.GetValue(threads);
            if (n < 1) throw new UserError($"--threads must be at least 1, not {n}.");
            var options = d with
            {
                ProjectionDim = parse.GetValue(projection), HiddenDim = parse.GetValue(hidden), TextProjection = !parse.GetValue(noTextProjection), Seed = parse.GetValue(seed),
                Training = d.Training with { Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr), WeightDecay = parse.GetValue(weightDecay) },
            };
            if (options.Training.Steps < 1) throw new UserError($"--steps must be at least 1, not {options.Training.Steps}.");
            if (options.ProjectionDim < 1 || options.HiddenDim < 0) throw new UserError("--projection-dim must be positive and --hidden-dim at least 0.");
            var (trainSet, testSet) = LoadClassSets(ds, parse.GetValue(data), parse.GetValue(testData), parse.GetValue(trainImages), parse.GetValue(testImages));
            _ = trainSet.HoldOutClasses(held); // an unknown class name is one clear error before the towers load
            Farabi.Training.TorchThreads.Set(n);
            var run = RunFolder.Create("clip lit", parse.GetValue(outDir));
            var templates = ClassSetTemplates(ds);
            var featureCache = new EmbeddingCache(parse.GetValue(cache));
            run.WriteConfig(new
            {
                verb = "clip lit", dataset = ds, data = parse.GetValue(data), test_data = parse.GetValue(testData), hold_out = held,
                train_images = trainSet.Count, test_images = testSet.Count, options.ProjectionDim, options.HiddenDim, text_projection = options.TextProjection, options.Seed,
                options.Training.Steps, options.Training.BatchSize, options.Training.LearningRate, options.Training.WarmupSteps, options.Training.WeightDecay,
                cache = featureCache.Directory,
            });
            using var imageTower = new ResNet18Featurizer(n);
            using var textTower = new MiniLmEncoder(n);
            ClassSetResult r;
            // Embedding is the slow part (ResNet18 at 224x224, one image at a time) and is cached on disk, so a rerun skips it.
            var embedClock = System.Diagnostics.Stopwatch.StartNew();
            var embedProgress = new ProgressBar("resnet18 features", trainSet.Count + testSet.Count, stderr);
            ProgressBar? progress = null;
            Action<ClipStepReport>? report = null;
            try
            {
                r = LitExperiment.Run(trainSet, testSet, held, templates, imageTower, textTower, featureCache, options, s =>
                {
                    // The training bar starts with training, after the (possibly cached) tower features.
                    if (progress is null)
                    {
                        embedProgress.Dispose();
                        progress = new ProgressBar("clip lit", options.Training.Steps, stderr);
                        report = StepReporter(progress, run, options.Training.Steps);
                    }
                    report!(s);
                }, cancel, new InlineProgress(k => embedProgress.Report(k)));
            }
            finally
            {
                embedProgress.Dispose();
                progress?.Dispose();
            }
            var embedSeconds = embedClock.Elapsed.TotalSeconds - r.TrainSeconds;
            var lit = (LitScorer)r.Scorer;
            lit.Model.Save(run.File("model"), imageTower.Name, textTower.Name);
            var description = $"LiT: frozen {imageTower.Name} image features ({imageTower.Dimension}-d) and frozen {textTower.Name} text embeddings " +
                $"({textTower.Dimension}-d); only {(options.HiddenDim == 0 ? "linear projections" : $"MLP projections (hidden {options.HiddenDim})")} to " +
                $"{(options.TextProjection ? options.ProjectionDim + " dimensions" : "MiniLM's own 384-d space (no text projection)")} and the temperature are trained, for {r.Losses.Count} steps of batch {options.Training.BatchSize} " +
                $"({r.TrainSeconds:F1} s; tower features {embedSeconds:F0} s, cached in {featureCache.Directory}) on {trainSet.Count} {ds} images minus the " +
                $"held-out classes, each captioned with one of {templates.Count} templates.";
            var table = ReportClassSet(r, "clip lit", ds, held, templates, testSet, trainSet.Count, run, description);
            stdout.Write(table.ToText());
            stdout.WriteLine($"wrote model, results.json, report.md and plots to {run.Path}");
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool).</summary>
    sealed class InlineProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}

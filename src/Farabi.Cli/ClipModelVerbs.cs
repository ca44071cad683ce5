using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Farabi.Models.Clip;
using Farabi.Research.Clip;
using Farabi.Tokenizers;
using Farabi.Vision.Datasets;
using Farabi.Vision.Scenes;
using static TorchSharp.torch;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi clip train | zeroshot | probe | import-hf</c>: train a tiny CLIP on procedural scenes, classify
/// images zero-shot from prompts, fit the linear-probe baseline, and bring in Hugging Face CLIP checkpoints.
/// </summary>
static partial class ClipVerbs
{
    const string DefaultCifar = "../shared/data/images/cifar10/test-2k.bin.gz";
    const string DefaultCifarTrain = "../shared/data/images/cifar10/train-10k.bin.gz";
    const string DefaultMnist = "../shared/data/images/mnist/t10k-images-idx3-ubyte.gz";

    static Option<string[]> HoldOutOption() => new("--hold-out")
    {
        Description = "A colour-shape combination never shown in training (repeatable); default: purple triangle, green star, orange cross, blue diamond.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    static Command Train()
    {
        var d = new ClipSceneOptions();
        var steps = new Option<int>("--steps") { Description = "Optimiser steps.", DefaultValueFactory = _ => d.Training.Steps };
        var batch = new Option<int>("--batch-size") { Description = "Pairs per batch.", DefaultValueFactory = _ => d.Training.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => d.Training.LearningRate };
        var size = new Option<int>("--image-size") { Description = "Image side in pixels.", DefaultValueFactory = _ => d.ImageSize };
        var patch = new Option<int>("--patch-size") { Description = "ViT patch side.", DefaultValueFactory = _ => d.PatchSize };
        var width = new Option<int>("--width") { Description = "Width of both towers.", DefaultValueFactory = _ => d.Width };
        var layers = new Option<int>("--layers") { Description = "Layers per tower.", DefaultValueFactory = _ => d.Layers };
        var tower = new Option<string>("--tower") { Description = "Image tower: vit or cnn.", DefaultValueFactory = _ => d.Tower };
        tower.AcceptOnlyFromAmong("vit", "cnn");
        var trainScenes = new Option<int>("--train-scenes") { Description = "Training image-caption pairs.", DefaultValueFactory = _ => d.TrainScenes };
        var testScenes = new Option<int>("--test-scenes") { Description = "Test images per split.", DefaultValueFactory = _ => d.TestScenes };
        var holdOut = HoldOutOption();
        var seed = new Option<long>("--seed") { Description = "Seed of data, initialisation and batch order.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string?>("--out") { Description = "Run folder (default runs/clip-train-<timestamp>)." };
        var threads = new Option<int>("--threads")
        {
            Description = "libtorch threads; 1 is fastest for these tiny models on a shared machine (more threads spin-wait for each other).",
            DefaultValueFactory = _ => 1,
        };
        var dataset = new Option<string>("--dataset")
        {
            Description = "scenes (built in), cifar10 or mnist (--data, --test-data; --hold-out names classes; --train-scenes/--test-scenes count images).",
            DefaultValueFactory = _ => "scenes",
        };
        dataset.AcceptOnlyFromAmong("scenes", "cifar10", "mnist");
        var data = new Option<string?>("--data") { Description = "Training images for cifar10 (default " + DefaultCifarTrain + ") or mnist (default " + DefaultMnist + ")." };
        var twins = new Option<bool>("--shape-twins") { Description = "Scenes: train on scene/shape-twin pairs drawn into the same batch (hard negatives that differ only in shape)." };
        var testData = new Option<string?>("--test-data") { Description = "Test images for cifar10 (default " + DefaultCifar + "); for mnist, default: the last 2000 records of --data." };
        var command = new Command("train", "Train a tiny CLIP from scratch on procedural scenes (held-out colour-shape combinations) or CIFAR-10 / MNIST (held-out classes); zero-shot vs linear probe vs chance.")
        {
            steps, batch, lr, size, patch, width, layers, tower, trainScenes, testScenes, holdOut, seed, outDir, threads, dataset, data, testData, twins,
        };
        command.SetAction((parse, cancel) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var ds = parse.GetValue(dataset)!;
            var classSet = ds != "scenes";
            var held = parse.GetValue(holdOut) is { Length: > 0 } h ? h : classSet ? DefaultHeldOutClasses(ds) : d.HeldOut.ToArray();
            if (!classSet) _ = HeldOutCombinations.Parse(held); // a bad word is a FormatException naming it, before any work
            var options = new ClipSceneOptions
            {
                ImageSize = parse.GetValue(size), PatchSize = parse.GetValue(patch), Width = parse.GetValue(width), Layers = parse.GetValue(layers),
                Heads = Math.Max(1, parse.GetValue(width) / 32), ProjectionDim = parse.GetValue(width), Tower = parse.GetValue(tower)!,
                TrainScenes = parse.GetValue(trainScenes), TestScenes = parse.GetValue(testScenes), HeldOut = held, Seed = parse.GetValue(seed), ShapeTwins = parse.GetValue(twins),
                Training = d.Training with { Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr) },
            };
            if (parse.GetValue(threads) < 1) throw new UserError($"--threads must be at least 1, not {parse.GetValue(threads)}.");
            Farabi.Training.TorchThreads.Set(parse.GetValue(threads));
            if (options.Training.Steps < 1) throw new UserError($"--steps must be at least 1, not {options.Training.Steps}.");
            if (options.TrainScenes < 2) throw new UserError($"--train-scenes must be at least 2, not {options.TrainScenes}.");
            if (options.ImageSize % options.PatchSize != 0) throw new UserError($"--image-size {options.ImageSize} is not a multiple of --patch-size {options.PatchSize}.");
            var run = RunFolder.Create("clip train", parse.GetValue(outDir));
            run.WriteConfig(new
            {
                verb = "clip train", dataset = ds, data = parse.GetValue(data), test_data = parse.GetValue(testData), options.ImageSize, options.PatchSize, options.Width, options.Layers, options.Heads,
                options.ProjectionDim, options.Tower, options.TrainScenes, options.TestScenes, hold_out = held, options.Seed, shape_twins = options.ShapeTwins,
                options.Training.Steps, options.Training.BatchSize, options.Training.LearningRate, options.Training.WarmupSteps, options.Training.WeightDecay,
            });
            if (classSet)
            {
                var (trainSet, testSet) = LoadClassSets(ds, parse.GetValue(data), parse.GetValue(testData), options.TrainScenes, options.TestScenes);
                var templates = ClassSetTemplates(ds);
                ClassSetResult r;
                using (var progress = new ProgressBar("clip train", options.Training.Steps, stderr))
                    r = ClipClassSetExperiment.Run(trainSet, testSet, held, templates, options with { ContextLength = 24 }, StepReporter(progress, run, options.Training.Steps), cancel);
                var scorer = (ClipScorer)r.Scorer;
                scorer.Model.Save(run.File("model"));
                ((CaptionWordTokenizer)scorer.Tokenizer).Save(run.File("model"));
                var description = $"A tiny CLIP ({options.Tower}, width {options.Width}, {options.Layers} layers) trained from scratch for {r.Losses.Count} steps on " +
                    $"{trainSet.Count} {ds} images minus the held-out classes, each captioned with one of {templates.Count} templates. An unseen class name is " +
                    "a word the text tower never trained on, so zero-shot on held-out classes near chance is the expected honest result for a model trained " +
                    "on a handful of words.";
                var cifarTable = ReportClassSet(r, "clip train", ds, held, templates, testSet, trainSet.Count, run, description);
                stdout.Write(cifarTable.ToText());
                stdout.WriteLine($"wrote model, results.json, report.md and plots to {run.Path}");
                return Task.FromResult(0);
            }
            var result = RunScenes(options, run, stderr, cancel);
            stdout.Write(ResultTable(result).ToText());
            stdout.WriteLine($"wrote model, results.json, report.md and plots to {run.Path}");
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>Trains and evaluates the scene experiment into <paramref name="run"/>: model, plots, results.json, report.md.</summary>
    static ClipSceneResult RunScenes(ClipSceneOptions options, RunFolder run, TextWriter stderr, CancellationToken cancel)
    {
        ClipSceneResult result;
        using (var progress = new ProgressBar("clip train", options.Training.Steps, stderr))
        {
            result = ClipSceneExperiment.Run(options, r =>
            {
                progress.Report(r.Step, $"loss {r.Loss:F3} scale {r.LogitScale:F1}");
                if (r.Step % 10 == 0 || r.Step == options.Training.Steps)
                    run.AppendMetrics(new { step = r.Step, loss = r.Loss, lr = r.LearningRate, logit_scale = r.LogitScale, seconds = r.Seconds });
            }, cancel);
        }
        var modelDir = run.File("model");
        result.Scorer.Model.Save(modelDir);
        ((CaptionWordTokenizer)result.Scorer.Tokenizer).Save(modelDir);

        new Plots.LinePlot { Title = "CLIP contrastive loss", XLabel = "step", YLabel = "InfoNCE loss", Markers = false }
            .Add("train", result.Losses.ToList()).SavePng(run.File("loss.png"));
        SaveConfusion(result.ZeroShotHeldOut, run.File("confusion-held-out.png"), "Zero-shot on held-out combinations (rows: true, columns: predicted)");
        // Image-text similarity: one held-out test image per held-out class against every held-out class prompt.
        var generator = new SceneGenerator(new SceneOptions { ImageSize = options.ImageSize, MaxObjects = 1, HeldOut = HeldOutCombinations.Parse(options.HeldOut) }, options.Seed);
        var set = generator.ToLabeledSet(64, SceneSplit.HeldOut, start: ClipSceneExperiment.TestStart);
        var picks = result.HeldOutClasses.Select(c => set.Labels.ToList().IndexOf(set.ClassNames.ToList().IndexOf(c))).Where(i => i >= 0).ToList();
        var sim = result.Scorer.Similarity(picks.Select(i => set.Images[i]).ToList(), result.HeldOutClasses.Select(c => $"a {c}.").ToList());
        new Plots.Heatmap
        {
            Title = "Cosine similarity: held-out images (rows) vs prompts", RowLabels = picks.Select(i => "img: " + set.ClassNames[set.Labels[i]]).ToList(),
            ColumnLabels = result.HeldOutClasses.Select(c => $"a {c}.").ToList(),
        }.SetValues(sim).SavePng(run.File("similarity.png"));

        run.WriteJson("results.json", new
        {
            dataset = "scenes", zero_shot_top1 = result.ZeroShotHeldOut.Top1, zero_shot_top5 = result.ZeroShotHeldOut.Top5,
            zero_shot_seen_top1 = result.ZeroShotSeen.Top1, probe_top1 = result.ProbeHeldOutTop1, probe_seen_top1 = result.ProbeSeenTop1,
            chance = result.Chance, classes = result.ZeroShotSeen.ClassNames.Count, held_out_classes = result.HeldOutClasses,
            zero_shot_among_held_out_top1 = result.ZeroShotHeldOutAmongHeldOut.Top1, chance_among_held_out = 1.0 / result.HeldOutClasses.Count,
            shape_twins = options.ShapeTwins,
            final_loss = result.Losses.Count > 0 ? result.Losses[^1] : double.NaN, train_seconds = result.TrainSeconds,
        });
        run.WriteReport(ReportMarkdown(result, options));
        return result;
    }

    static TextTable ResultTable(ClipSceneResult r) => new TextTable("test images", "zero-shot top-1", "zero-shot top-5", "linear probe top-1", "chance")
        .Add($"held-out combinations ({string.Join(", ", r.HeldOutClasses)})", r.ZeroShotHeldOut.Top1, r.ZeroShotHeldOut.Top5, r.ProbeHeldOutTop1, r.Chance)
        .Add("seen combinations, new images", r.ZeroShotSeen.Top1, r.ZeroShotSeen.Top5, r.ProbeSeenTop1, r.Chance)
        .Add("held-out combinations, among held-out names only", r.ZeroShotHeldOutAmongHeldOut.Top1, "", "", 1.0 / r.HeldOutClasses.Count);

    static string ReportMarkdown(ClipSceneResult r, ClipSceneOptions o) => new StringBuilder()
        .AppendLine("# clip train (procedural scenes)")
        .AppendLine()
        .AppendLine($"A CLIP with a {o.Tower} image tower ({o.ImageSize}x{o.ImageSize}, patch {o.PatchSize}) and a causal text tower, width {o.Width}, " +
                    $"{o.Layers} layers each, trained for {r.Losses.Count} steps of batch {o.Training.BatchSize} on {o.TrainScenes} scene-caption pairs " +
                    $"in {r.TrainSeconds:F0} s. Combinations never shown in training: {string.Join(", ", o.HeldOut)}." +
                    (o.ShapeTwins ? " Training pairs come as a scene and its shape twin (same scene, another shape) in the same batch." : ""))
        .AppendLine()
        .AppendLine($"Zero-shot classifies among all {r.ZeroShotSeen.ClassNames.Count} colour-shape classes from the prompts alone " +
                    $"({PromptTemplates.Scenes.Count} templates ensembled). The linear probe is a supervised reference: it is fitted " +
                    "on frozen image embeddings with labelled examples of every class, held-out ones included.")
        .AppendLine()
        .Append(ResultTable(r).ToMarkdown())
        .AppendLine()
        .AppendLine("![loss](loss.png)")
        .AppendLine("![confusion](confusion-held-out.png)")
        .AppendLine("![similarity](similarity.png)")
        .ToString();

    static void SaveConfusion(ClassificationResult r, string path, string title)
    {
        // Only the rows of classes that occur, so a 36-class matrix over 4 held-out classes stays readable.
        var rows = Enumerable.Range(0, r.ClassNames.Count).Where(i => Enumerable.Range(0, r.ClassNames.Count).Any(j => r.Confusion[i, j] > 0)).ToList();
        var cols = Enumerable.Range(0, r.ClassNames.Count).Where(j => rows.Any(i => r.Confusion[i, j] > 0) || rows.Contains(j)).ToList();
        var values = new double[rows.Count, cols.Count];
        for (var a = 0; a < rows.Count; a++) for (var b = 0; b < cols.Count; b++) values[a, b] = r.Confusion[rows[a], cols[b]];
        new Plots.Heatmap
        {
            Title = title, RowLabels = rows.Select(i => r.ClassNames[i]).ToList(), ColumnLabels = cols.Select(j => r.ClassNames[j]).ToList(),
            Width = Math.Max(800, 60 * cols.Count + 200), Height = Math.Max(400, 40 * rows.Count + 200), ValueFormat = "0",
        }.SetValues(values).SavePng(path);
    }

    // ---- evaluation data ----

    static Option<string> DatasetOption() => new("--dataset")
    {
        Description = "scenes (held-out combinations of the procedural scenes), cifar10 (test batch at --data) or mnist (IDX images at --data); ignored with --images.",
        DefaultValueFactory = _ => "scenes",
    };

    /// <summary>The labelled images to evaluate on: a folder of class folders, held-out scenes, or CIFAR-10.</summary>
    static LabeledImageSet EvaluationSet(string? images, string dataset, string data, int imageSize, string[] holdOut, int limit, long seed)
    {
        if (images is not null)
        {
            if (!Directory.Exists(images)) throw new DirectoryNotFoundException($"--images folder '{images}' does not exist.");
            return LabeledImageSet.LoadClassFolders(images, limit);
        }
        switch (dataset)
        {
            case "scenes":
                var held = HeldOutCombinations.Parse(holdOut.Length > 0 ? holdOut : new ClipSceneOptions().HeldOut);
                var generator = new SceneGenerator(new SceneOptions { ImageSize = imageSize, MaxObjects = 1, HeldOut = held }, seed);
                return generator.ToLabeledSet(Math.Min(limit, 100_000), SceneSplit.HeldOut, start: ClipSceneExperiment.TestStart);
            case "mnist":
                return LoadMnist(data == DefaultCifar ? DefaultMnist : data).Take(limit);
            case "cifar10":
                if (!File.Exists(data)) throw new FileNotFoundException($"CIFAR-10 file '{data}' does not exist; pass --data with the path of a CIFAR-10 binary batch (.bin or .bin.gz).", data);
                return Cifar10.Load(data, limit);
            default:
                throw new UserError($"--dataset must be scenes, cifar10 or mnist, not '{dataset}'.");
        }
    }

    /// <summary>
    /// A trained model folder as a scorer: a LiT folder (frozen towers + projections) or a CLIP folder, with the
    /// image side to draw scenes at (the LiT towers resize any image; 32 matches the scene experiment).
    /// </summary>
    static (IImageTextScorer Scorer, int ImageSize) LoadScorer(string folder)
    {
        if (File.Exists(Path.Combine(folder, LitModel.ConfigFile))) return (LitScorer.Load(folder, new Farabi.Towers.EmbeddingCache()), 32);
        var clip = ClipScorer.Load(folder);
        return (clip, clip.Model.Config.Vision.ImageSize);
    }

    static IReadOnlyList<string> TemplatesFor(string[]? given, string dataset, bool folder) =>
        given is { Length: > 0 } ? given : folder ? PromptTemplates.Default : dataset switch
        {
            "cifar10" => PromptTemplates.Cifar10,
            "mnist" => PromptTemplates.Mnist,
            _ => PromptTemplates.Scenes,
        };

    static Command ZeroShot()
    {
        var model = new Option<string>("--model") { Description = "CLIP model folder (config.json + model.safetensors + tokenizer) or LiT folder (lit_config.json).", Required = true };
        var labels = new Option<string[]>("--labels") { Description = "Class names, in label order (default: the data set's).", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = true };
        var templates = new Option<string[]>("--templates") { Description = "Prompt templates with {label} (repeatable); several are ensembled.", Arity = ArgumentArity.ZeroOrMore };
        var images = new Option<string?>("--images") { Description = "A folder with one sub-folder of images per class." };
        var dataset = DatasetOption();
        var data = DataOption();
        var holdOut = HoldOutOption();
        var limit = new Option<int>("--limit") { Description = "Most images.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Scene seed (for --dataset scenes).", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string?>("--out") { Description = "Run folder (default runs/clip-zeroshot-<timestamp>)." };
        var command = new Command("zeroshot", "Zero-shot classification with a CLIP model: class names x prompt templates, ensembled.")
        {
            model, labels, templates, images, dataset, data, holdOut, limit, seed, outDir,
        };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var (scorer, imageSize) = LoadScorer(parse.GetValue(model)!);
            using var owned = scorer as IDisposable;
            var imageDir = parse.GetValue(images);
            var ds = parse.GetValue(dataset)!;
            var set = EvaluationSet(imageDir, ds, parse.GetValue(data)!, imageSize, parse.GetValue(holdOut) ?? [], parse.GetValue(limit), parse.GetValue(seed));
            var names = parse.GetValue(labels) is { Length: > 0 } given ? given : set.ClassNames.ToArray();
            if (names.Length != set.ClassNames.Count)
                throw new UserError($"--labels gives {names.Length} names but the data has {set.ClassNames.Count} classes ({string.Join(", ", set.ClassNames)}).");
            var tpl = TemplatesFor(parse.GetValue(templates), ds, imageDir is not null);
            var run = RunFolder.Create("clip zeroshot", parse.GetValue(outDir));
            run.WriteConfig(new { verb = "clip zeroshot", model = parse.GetValue(model), source = set.Source, labels = names, templates = tpl, images = set.Count });
            using var classifier = new ZeroShotClassifier(scorer, names, tpl);
            var r = classifier.Evaluate(set);
            var chance = 1.0 / names.Length;
            SaveConfusion(r, run.File("confusion.png"), $"Zero-shot on {set.Source}");
            run.WriteJson("results.json", new { source = set.Source, zero_shot_top1 = r.Top1, zero_shot_top5 = r.Top5, probe_top1 = (double?)null, chance, images = set.Count, classes = names.Length });
            var table = new TextTable("data", "images", "classes", "templates", "zero-shot top-1", "top-5", "chance").Add(set.Source, set.Count, names.Length, tpl.Count, r.Top1, r.Top5, chance);
            return FinishEvaluation(run, "clip zeroshot", parse.GetValue(model)!, table, stdout);
        });
        return command;
    }

    /// <summary>The <c>--data</c> option of the evaluation verbs.</summary>
    static Option<string> DataOption() => new("--data")
    {
        Description = "CIFAR-10 binary batch for --dataset cifar10 (MNIST images file for --dataset mnist; default " + DefaultMnist + ").",
        DefaultValueFactory = _ => DefaultCifar,
    };

    /// <summary>The end both evaluation verbs share: report.md with the table and confusion matrix, the table on stdout.</summary>
    static int FinishEvaluation(RunFolder run, string verb, string model, TextTable table, TextWriter stdout)
    {
        run.WriteReport($"# {verb}\n\nModel `{model}`.\n\n{table.ToMarkdown()}\n![confusion](confusion.png)\n");
        stdout.Write(table.ToText());
        stdout.WriteLine($"wrote results.json and confusion.png to {run.Path}");
        return 0;
    }

    static Command Probe()
    {
        var model = new Option<string>("--model") { Description = "CLIP model folder or LiT folder (lit_config.json).", Required = true };
        var images = new Option<string?>("--images") { Description = "A folder with one sub-folder of images per class." };
        var dataset = DatasetOption();
        var data = DataOption();
        var holdOut = HoldOutOption();
        var limit = new Option<int>("--limit") { Description = "Most images (half fit the probe, half test it).", DefaultValueFactory = _ => 1000 };
        var steps = new Option<int>("--steps") { Description = "Optimiser steps of the logistic regression.", DefaultValueFactory = _ => 300 };
        var seed = new Option<long>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string?>("--out") { Description = "Run folder (default runs/clip-probe-<timestamp>)." };
        var command = new Command("probe", "Linear-probe baseline: logistic regression on frozen CLIP image embeddings, next to zero-shot on the same test half.")
        {
            model, images, dataset, data, holdOut, limit, steps, seed, outDir,
        };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var (scorer, imageSize) = LoadScorer(parse.GetValue(model)!);
            using var owned = scorer as IDisposable;
            var imageDir = parse.GetValue(images);
            var ds = parse.GetValue(dataset)!;
            var s = parse.GetValue(seed);
            var set = EvaluationSet(imageDir, ds, parse.GetValue(data)!, imageSize, parse.GetValue(holdOut) ?? [], parse.GetValue(limit), s);
            if (set.Count < 4) throw new UserError($"the probe needs at least 4 images; {set.Source} has {set.Count}.");
            var order = Enumerable.Range(0, set.Count).OrderBy(i => new Random((int)s + i * 7919).Next()).ToList();
            var fit = set.Subset(order.Take(set.Count / 2));
            var test = set.Subset(order.Skip(set.Count / 2));
            var run = RunFolder.Create("clip probe", parse.GetValue(outDir));
            run.WriteConfig(new { verb = "clip probe", model = parse.GetValue(model), source = set.Source, fit = fit.Count, test = test.Count, steps = parse.GetValue(steps), seed = s });
            using var scope = NewDisposeScope();
            using var probe = LinearProbe.Fit(scorer.EmbedImages(fit.Images), fit.Labels, set.ClassNames.Count, parse.GetValue(steps), seed: s);
            var testEmb = scorer.EmbedImages(test.Images);
            var pr = ClassificationResult.FromLogits(probe.Logits(testEmb), test.Labels, set.ClassNames);
            using var zs = new ZeroShotClassifier(scorer, set.ClassNames, TemplatesFor(null, ds, imageDir is not null));
            var zr = zs.Evaluate(testEmb, test.Labels);
            var chance = 1.0 / set.ClassNames.Count;
            SaveConfusion(pr, run.File("confusion.png"), $"Linear probe on {set.Source}");
            // Zero-shot chooses among every class name; the probe in effect only among the classes present in
            // its fit half (e.g. the four held-out scene classes), so it has its own, higher, chance level.
            var probeChance = 1.0 / Math.Max(1, fit.Labels.Distinct().Count());
            run.WriteJson("results.json", new { source = set.Source, zero_shot_top1 = zr.Top1, probe_top1 = pr.Top1, probe_top5 = pr.Top5, chance, probe_chance = probeChance, fit = fit.Count, test = test.Count });
            var table = new TextTable("data", "fit", "test", "linear probe top-1", "probe chance", "zero-shot top-1", "chance").Add(set.Source, fit.Count, test.Count, pr.Top1, probeChance, zr.Top1, chance);
            return FinishEvaluation(run, "clip probe", parse.GetValue(model)!, table, stdout);
        });
        return command;
    }

    static Command ImportHf()
    {
        var input = new Option<string>("--input") { Description = "Hugging Face CLIP folder: config.json + model.safetensors (+ vocab.json, merges.txt).", Required = true };
        var outDir = new Option<string?>("--out") { Description = "Output model folder (default runs/clip-import-hf-<timestamp>/model)." };
        var command = new Command("import-hf", "Load and validate a Hugging Face CLIPModel checkpoint and write it as a Farabi CLIP model folder.") { input, outDir };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var dir = parse.GetValue(input)!;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--input folder '{dir}' does not exist.");
            var model = ClipModel.Load(dir); // strict: every weight present, every shape checked
            model.eval();
            var c = model.Config;
            // A smoke forward on a grey image and an empty caption proves the towers and projections fit together.
            using (no_grad())
            using (var scope = NewDisposeScope())
            {
                var ids = zeros([1, 2], ScalarType.Int64);
                ids[0, 0] = tensor((long)c.Text.BosTokenId);
                ids[0, 1] = tensor((long)(c.Text.EosTokenId == 2 ? c.Text.VocabSize - 1 : c.Text.EosTokenId));
                using var o = model.Forward(full([1, c.Vision.NumChannels, c.Vision.ImageSize, c.Vision.ImageSize], 0.5f), ids);
                if (!o.LogitsPerImage.isfinite().all().item<bool>()) throw new InvalidDataException($"'{dir}': the checkpoint gives non-finite logits.");
            }
            var run = RunFolder.Create("clip import-hf", null);
            var target = parse.GetValue(outDir) ?? run.File("model");
            model.Save(target);
            var tokenizerFiles = new[] { "vocab.json", "merges.txt", CaptionWordTokenizer.FileName }.Where(f => File.Exists(Path.Combine(dir, f))).ToList();
            foreach (var f in tokenizerFiles) AtomicFile.WriteText(Path.Combine(target, f), File.ReadAllText(Path.Combine(dir, f)));
            var parameters = model.parameters().Sum(p => p.numel());
            run.WriteConfig(new { verb = "clip import-hf", input = dir, output = target });
            var table = new TextTable("image tower", "text tower", "projection", "parameters", "tokenizer")
                .Add($"{c.Vision.Tower} {c.Vision.ImageSize}px/{c.Vision.PatchSize}, {c.Vision.NumHiddenLayers}x{c.Vision.HiddenSize}",
                     $"{c.Text.NumHiddenLayers}x{c.Text.HiddenSize}, ctx {c.Text.MaxPositionEmbeddings}", c.ProjectionDim, parameters,
                     tokenizerFiles.Count > 0 ? string.Join(" + ", tokenizerFiles) : "none (copy vocab.json + merges.txt)");
            run.WriteReport($"# clip import-hf\n\nImported `{dir}` to `{target}`.\n\n{table.ToMarkdown()}");
            stdout.Write(table.ToText());
            stdout.WriteLine($"wrote {target}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The CLIP stage of <c>farabi demo</c> (about two minutes on two cores): train a tiny CLIP on procedural
    /// scenes with four held-out colour-shape combinations and report zero-shot top-1 on them against the
    /// linear probe and chance. Writes its files under <c>clip/</c> in the demo's run folder.
    /// </summary>
    internal static DemoCommand.StageResult DemoStage(RunFolder run, int seed, TextWriter stdout)
    {
        var options = new ClipSceneOptions
        {
            Seed = seed, TrainScenes = 3000, TestScenes = 240, Width = 64, Layers = 2, Heads = 2, ProjectionDim = 64,
            Training = new ClipTrainingOptions { Steps = 300, BatchSize = 64, LearningRate = 2e-3, WarmupSteps = 30 },
        };
        var sub = RunFolder.Create("clip demo", run.File("clip"));
        // One libtorch thread: with these tiny matrices, more threads mostly wait for each other (10x slower
        // measured on a busy two-core machine).
        var threads = Farabi.Training.TorchThreads.Count;
        Farabi.Training.TorchThreads.Set(1);
        ClipSceneResult r;
        try { r = RunScenes(options, sub, TextWriter.Null, CancellationToken.None); }
        finally { Farabi.Training.TorchThreads.Set(threads); }
        var table = ResultTable(r);
        stdout.Write(table.ToText());
        var md = ReportMarkdown(r, options).Replace("](", "](clip/").Replace("# clip train (procedural scenes)", "").TrimStart();
        return new DemoCommand.StageResult(
            $"CLIP zero-shot on unseen colour-shape combinations {r.ZeroShotHeldOut.Top1:P0} (probe {r.ProbeHeldOutTop1:P0}, chance {r.Chance:P0})", md);
    }
}

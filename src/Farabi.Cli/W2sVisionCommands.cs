using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Farabi.Cli.Plots;
using Farabi.Research.WeakToStrong;
using Farabi.Research.WeakToStrong.Vision;
using Farabi.Tokenizers;
using Farabi.Towers;
using Farabi.Vision.Datasets;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi w2s vision</c>: weak-to-strong on CIFAR-10, the small-scale twin of the paper's AlexNet → DINO ImageNet
/// table (Burns et al., 2023): a small CNN trained from scratch supervises probes on frozen ImageNet ResNet18 features.
/// </summary>
static class W2sVisionCommands
{
    /// <summary>Adds the <c>vision</c> verb to the <c>w2s</c> group and returns the group.</summary>
    public static Command AddTo(Command w2s)
    {
        w2s.Subcommands.Add(Create());
        return w2s;
    }

    static Option<T> Opt<T>(string name, T value, string description) => new(name) { Description = description, DefaultValueFactory = _ => value };

    static Command Create()
    {
        var trainData = Opt("--train-data", "../shared/data/images/cifar10/train-10k.bin.gz", "CIFAR-10 training batch (.bin or .bin.gz); its first --train images are used.");
        var testData = Opt("--test-data", "../shared/data/images/cifar10/test-2k.bin.gz", "CIFAR-10 test batch; its first --test images are used.");
        var train = Opt("--train", 5000, "Training images (a validation slice, then halves A and B).");
        var test = Opt("--test", 2000, "Test images.");
        var weak = Opt("--weak", "cnn-small", "Comma-separated weak supervisors: cnn-tiny, cnn-small (or a probe name).");
        var strong = Opt("--strong", "resnet18-linear,resnet18-mlp", "Comma-separated strong students: resnet18-linear, resnet18-mlp (or a CNN name).");
        var via = new Option<string?>("--via") { Description = "Bootstrapping: comma-separated intermediate models between weak and strong." };
        var losses = Opt("--losses", "xent,aux_conf,product", "Comma-separated student losses: xent, aux_conf, product.");
        var seeds = Opt("--seeds", 3, "Seeds 0..N-1 (split, initialisation and batch order).");
        var alphaMax = Opt("--alpha-max", WeakToStrongLoss.DefaultAlphaMax, "Final weight α of aux_conf's confidence term (ramped linearly over the first 20% of steps).");
        var cnnSteps = Opt("--cnn-steps", CnnClassifierFamily.DefaultOptions.Steps, "Training steps of a CNN (batch 64).");
        var cnnLr = Opt("--cnn-lr", CnnClassifierFamily.DefaultOptions.LearningRate, "Peak AdamW learning rate of a CNN.");
        var probeSteps = Opt("--probe-steps", ProbeClassifierFamily.DefaultOptions.Steps, "Training steps of a probe (batch 128).");
        var probeLr = Opt("--probe-lr", ProbeClassifierFamily.DefaultOptions.LearningRate, "Peak AdamW learning rate of a probe.");
        var threads = Opt("--threads", 1, "libtorch and ONNX Runtime threads (1 is fastest on a shared machine).");
        var cache = new Option<string?>("--cache") { Description = "Embedding cache folder (default $FARABI_CACHE/embeddings or ~/.cache/farabi/embeddings)." };
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/w2s-vision-<time>)." };
        var cmd = new Command("vision", "CIFAR-10: a small CNN's labels train probes on frozen ResNet18 features (the paper's AlexNet → DINO setting); PGR per loss over seeds.")
        {
            trainData, testData, train, test, weak, strong, via, losses, seeds, alphaMax, cnnSteps, cnnLr, probeSteps, probeLr, threads, cache, output,
        };
        cmd.SetAction(p =>
        {
            if (p.GetValue(train) < 20) throw new UserError($"--train must be at least 20, not {p.GetValue(train)}.");
            if (p.GetValue(test) < 2) throw new UserError($"--test must be at least 2, not {p.GetValue(test)}.");
            if (p.GetValue(seeds) < 1) throw new UserError($"--seeds must be at least 1, not {p.GetValue(seeds)}.");
            if (p.GetValue(threads) < 1) throw new UserError($"--threads must be at least 1, not {p.GetValue(threads)}.");
            if (p.GetValue(alphaMax) is < 0 or > 1) throw new UserError($"--alpha-max must lie in [0, 1], not {p.GetValue(alphaMax)}.");
            if (p.GetValue(cnnSteps) < 1 || p.GetValue(probeSteps) < 1) throw new UserError("--cnn-steps and --probe-steps must be at least 1.");
            var lossList = ParseLosses(p.GetValue(losses)!);
            var cnnOptions = CnnClassifierFamily.DefaultOptions with { Steps = p.GetValue(cnnSteps), LearningRate = p.GetValue(cnnLr) };
            var probeOptions = ProbeClassifierFamily.DefaultOptions with { Steps = p.GetValue(probeSteps), LearningRate = p.GetValue(probeLr) };
            IImageClassifierFamily Family(string name) =>
                name.StartsWith("cnn-", StringComparison.Ordinal) ? CnnClassifierFamily.Preset(name, cnnOptions)
                : name.StartsWith("resnet18-", StringComparison.Ordinal) ? ProbeClassifierFamily.Preset(name, probeOptions)
                : throw new UserError($"Unknown vision model '{name}'; expected cnn-tiny, cnn-small, resnet18-linear or resnet18-mlp.");
            List<IImageClassifierFamily> Families(string? list) =>
                (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n =>
                {
                    try { return Family(n); }
                    catch (ArgumentException e) { throw new UserError(e.Message); }
                }).ToList();
            var weaks = Families(p.GetValue(weak));
            var strongs = Families(p.GetValue(strong));
            var middles = Families(p.GetValue(via));
            if (weaks.Count == 0 || strongs.Count == 0) throw new UserError("--weak and --strong must each name at least one model.");

            var trainSet = Cifar10.Load(p.GetValue(trainData)!, p.GetValue(train));
            var testSet = Cifar10.Load(p.GetValue(testData)!, p.GetValue(test));
            Farabi.Training.TorchThreads.Set(p.GetValue(threads));
            var needsFeatures = weaks.Concat(strongs).Concat(middles).Any(f => f is ProbeClassifierFamily);
            float[][]? trainFeatures = null, testFeatures = null;
            if (needsFeatures)
            {
                var store = new EmbeddingCache(p.GetValue(cache));
                using var tower = new ResNet18Featurizer(p.GetValue(threads));
                // Only images missing from the cache are embedded; a warm cache makes this instant.
                using (var bar = new ProgressBar("ResNet18 features, train (cached ones count at once)", trainSet.Count))
                    trainFeatures = store.Embed(tower, trainSet.Images, new Progress<int>(d => bar.Report(d)));
                using (var bar = new ProgressBar("ResNet18 features, test (cached ones count at once)", testSet.Count))
                    testFeatures = store.Embed(tower, testSet.Images, new Progress<int>(d => bar.Report(d)));
            }
            var classes = trainSet.ClassNames.Count;
            var trainExamples = new ImageExamples(trainSet.Images, trainFeatures, trainSet.Labels, classes);
            var testExamples = new ImageExamples(testSet.Images, testFeatures, testSet.Labels, classes);
            var experimentOptions = new VisionWeakToStrongOptions(Losses: lossList, AlphaMax: p.GetValue(alphaMax));

            var run = RunFolder.Create("w2s-vision", p.GetValue(output));
            run.WriteConfig(new
            {
                verb = "w2s vision", train_data = p.GetValue(trainData), test_data = p.GetValue(testData), train = trainSet.Count, test = testSet.Count,
                weak = p.GetValue(weak), strong = p.GetValue(strong), via = p.GetValue(via), losses = p.GetValue(losses), seeds = p.GetValue(seeds),
                alpha_max = p.GetValue(alphaMax), cnn = Config(cnnOptions), probe = Config(probeOptions), threads = p.GetValue(threads),
            });
            var rows = new List<WeakToStrongResult>();
            var seedCount = p.GetValue(seeds);
            using (var progress = new ProgressBar("w2s vision", (long)weaks.Count * seedCount))
            {
                var done = 0;
                foreach (var w in weaks)
                    for (var seed = 0; seed < seedCount; seed++)
                    {
                        var s = seed;
                        var experiment = new VisionWeakToStrongExperiment("cifar10", trainExamples, testExamples, experimentOptions)
                        {
                            Progress = line => progress.Report(done, $"seed {s}: {line}"),
                        };
                        foreach (var row in experiment.RunLazily(w, strongs, seed, middles))
                        {
                            rows.Add(row);
                            run.AppendMetrics(JsonSerializer.SerializeToNode(row, WeakToStrongSummary.Json)!);
                            // Written after every row so an interrupted run keeps what it finished.
                            AtomicFile.WriteText(run.File("results.json"), WeakToStrongSummary.ToJson(rows) + "\n");
                        }
                        progress.Report(++done);
                    }
            }
            return Report(run, rows, p.InvocationConfiguration.Output);
        });
        return cmd;
    }

    static object Config(ImageTrainingOptions o) =>
        new { steps = o.Steps, batch = o.BatchSize, lr = o.LearningRate, weight_decay = o.WeightDecay, eval_every = o.EvalEvery };

    static IReadOnlyList<StudentLoss> ParseLosses(string list)
    {
        try
        {
            var parsed = list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(WeakToStrongLoss.Parse).Distinct().ToList();
            return parsed.Count > 0 ? parsed : throw new UserError("--losses must name at least one loss.");
        }
        catch (ArgumentException e)
        {
            throw new UserError("--losses: " + e.Message);
        }
    }

    static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
    static string Ci(MeanInterval m) => m.Count <= 1 ? F(m.Mean) : $"{F(m.Mean)} ± {F(m.Upper - m.Mean)}";

    /// <summary>results.json, report.md (table and medians) and accuracy.png / pgr.png; the table on stdout.</summary>
    static int Report(RunFolder run, List<WeakToStrongResult> rows, TextWriter stdout)
    {
        AtomicFile.WriteText(run.File("results.json"), WeakToStrongSummary.ToJson(rows) + "\n");
        var cells = WeakToStrongSummary.Cells(rows);
        var table = new TextTable("weak", "strong", "loss", "seeds", "weak acc", "w2s acc", "w2s acc (best step)", "ceiling acc", "PGR", "PGR best step", "PGR AUC", "agreement", "ceiling<=weak");
        foreach (var c in cells)
        {
            var bestAcc = MeanInterval.Of(rows.Where(r => r.Weak == c.Weak && r.Strong == c.Strong && r.Loss == c.Loss).Select(r => r.W2sBestAcc));
            table.Add(c.Weak, c.Strong, c.Loss, c.Seeds, Ci(c.WeakAcc), Ci(c.W2sAcc), Ci(bestAcc), Ci(c.CeilingAcc), Ci(c.Pgr), Ci(c.PgrBest), Ci(c.PgrAuc), F(c.Agreement.Mean),
                c.CeilingNotAboveWeak == 0 ? "" : $"{c.CeilingNotAboveWeak}/{c.Seeds} seeds");
        }

        var pairs = cells.Select(c => (c.Weak, c.Strong)).Distinct().ToList();
        var categories = pairs.Select(pair => $"{pair.Weak}→{pair.Strong}").ToList();
        var lossNames = cells.Select(c => c.Loss).Distinct().ToList();
        WeakToStrongCell Cell((string Weak, string Strong) pair, string loss) => cells.First(c => c.Weak == pair.Weak && c.Strong == pair.Strong && c.Loss == loss);
        double Or0(double v) => double.IsFinite(v) ? v : 0;
        double Half(MeanInterval m) => Or0(m.Upper - m.Mean);
        var accuracy = new BarChart { Title = "CIFAR-10 test accuracy: weak, weak-to-strong per loss, ceiling (mean, 95% CI)", YLabel = "top-1 accuracy", Categories = categories, Width = 1000 };
        accuracy.Add("weak", pairs.Select(pair => Cell(pair, lossNames[0]).WeakAcc.Mean).ToList(), pairs.Select(pair => Half(Cell(pair, lossNames[0]).WeakAcc)).ToList());
        foreach (var loss in lossNames)
            accuracy.Add($"w2s ({loss})", pairs.Select(pair => Cell(pair, loss).W2sAcc.Mean).ToList(), pairs.Select(pair => Half(Cell(pair, loss).W2sAcc)).ToList());
        accuracy.Add("ceiling", pairs.Select(pair => Cell(pair, lossNames[0]).CeilingAcc.Mean).ToList(), pairs.Select(pair => Half(Cell(pair, lossNames[0]).CeilingAcc)).ToList());
        accuracy.SavePng(run.File("accuracy.png"));
        var pgr = new BarChart { Title = "Performance gap recovered per loss (mean, 95% CI over seeds)", YLabel = "PGR (accuracy)", Categories = categories, Width = 1000 };
        foreach (var loss in lossNames)
            pgr.Add(loss, pairs.Select(pair => Or0(Cell(pair, loss).Pgr.Mean)).ToList(), pairs.Select(pair => Half(Cell(pair, loss).Pgr)).ToList());
        pgr.SavePng(run.File("pgr.png"));

        var medians = WeakToStrongSummary.MedianPgrByLoss(cells);
        var medianLine = medians.Count == 0 ? "No pair's ceiling beat its weak model on average, so no median PGR is reported."
            : "Median accuracy PGR over pairs (ceiling above weak): " + string.Join(", ", medians.Select(kv => $"{kv.Key} {F(kv.Value)}")) + ".";
        run.WriteReport("# w2s vision: CIFAR-10\n\n"
            + $"{rows.Count} rows (weak, strong, loss, seed) in `results.json`. Test top-1 accuracies, mean ± 95% t-interval half-width over seeds; "
            + "PGR = (w2s − weak) / (ceiling − weak); \"best step\" takes student and ceiling at their best ground-truth validation accuracy "
            + "(an optimistic early-stopping bound); PGR AUC uses macro one-vs-rest ROC-AUC. Pairs whose ceiling does not beat the weak model "
            + "are kept and flagged.\n\n" + table.ToMarkdown() + "\n" + medianLine + "\n\n![accuracy](accuracy.png)\n\n![PGR](pgr.png)\n");
        stdout.Write(table.ToText());
        stdout.WriteLine(medianLine);
        stdout.WriteLine($"run folder: {run.Path}");
        return 0;
    }
}

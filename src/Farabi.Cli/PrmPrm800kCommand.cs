using System.CommandLine;
using System.Globalization;
using System.Text;
using Farabi.Research.ProcessSupervision;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi prm prm800k</c>: a step-level correctness classifier trained on PRM800K phase-1 ratings and its
/// step-level ROC-AUC on the test file, next to trivial baselines (class prior, step length, word n-grams).
/// </summary>
static partial class PrmCommands
{
    const string Prm800kDefaultDir = "../shared/data/math/prm800k-phase1";

    static Command Prm800k()
    {
        var d = new Prm800kClassifierOptions();
        var train = new Option<string>("--train") { Description = "PRM800K phase-1 training ratings (JSONL, plain or .gz).", DefaultValueFactory = _ => $"{Prm800kDefaultDir}/train_plus.jsonl.gz" };
        var test = new Option<string>("--test") { Description = "PRM800K phase-1 test ratings.", DefaultValueFactory = _ => $"{Prm800kDefaultDir}/test.jsonl" };
        var neutral = new Option<string>("--neutral") { Description = "Where neutral (0) ratings go: positive, negative or drop.", DefaultValueFactory = _ => "positive" };
        neutral.AcceptOnlyFromAmong("positive", "negative", "drop");
        var steps = IntOption("--steps", d.Training.Steps, "Updates of the byte-level encoder and head.");
        var batch = IntOption("--batch-size", d.Training.BatchSize, "Steps per update.");
        var lr = DoubleOption("--lr", d.Training.LearningRate, "Peak learning rate.");
        var layers = IntOption("--layers", d.Encoder.Layers, "Encoder layers.");
        var width = IntOption("--width", d.Encoder.Width, "Encoder width (4 heads).");
        var maxTrain = IntOption("--max-train", 0, "Use at most this many training steps (a seeded random subset; 0 = all).");
        var maxTest = IntOption("--max-test", 0, "Score at most this many test steps (a seeded random subset; 0 = all).");
        var seed = IntOption("--seed", 0, "Seed of weights, subsets and batches.");
        var output = OutOption("prm-prm800k");
        var threads = ThreadsOption();
        var cmd = new Command("prm800k", "Train a step classifier on PRM800K phase-1 ratings and report step-level ROC-AUC on its test file, with trivial baselines.")
            { train, test, neutral, steps, batch, lr, layers, width, maxTrain, maxTest, seed, output, threads };
        cmd.SetAction(parse =>
        {
            ApplyThreads(parse, threads);
            foreach (var (o, name) in new[] { (steps, "--steps"), (batch, "--batch-size"), (layers, "--layers"), (width, "--width") })
                RequirePositive(parse.GetValue(o), name);
            if (parse.GetValue(width) % 4 != 0) throw new UserError($"--width must be divisible by 4 (the heads), not {parse.GetValue(width)}.");
            foreach (var (o, name) in new[] { (maxTrain, "--max-train"), (maxTest, "--max-test") })
                if (parse.GetValue(o) < 0) throw new UserError($"{name} must be 0 or more, not {parse.GetValue(o)}.");
            foreach (var path in new[] { parse.GetValue(train)!, parse.GetValue(test)! })
                if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist (PRM800K phase 1 lives in shared/data/math/prm800k-phase1/).", path);
            var s = parse.GetValue(seed);
            var options = d with
            {
                Neutral = parse.GetValue(neutral) switch { "negative" => NeutralRating.Negative, "drop" => NeutralRating.Drop, _ => NeutralRating.Positive },
                Encoder = d.Encoder with { Layers = parse.GetValue(layers), Width = parse.GetValue(width), Seed = s },
                Training = d.Training with { Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr), Seed = s },
            };
            var run = RunFolder.Create("prm-prm800k", parse.GetValue(output));
            Prm800kIn(run, parse.GetValue(train)!, parse.GetValue(test)!, options, parse.GetValue(maxTrain), parse.GetValue(maxTest), s, parse.InvocationConfiguration.Output);
            return 0;
        });
        return cmd;
    }

    static IReadOnlyList<T> Subset<T>(IReadOnlyList<T> items, int max, int seed)
    {
        if (max <= 0 || max >= items.Count) return items;
        var order = Enumerable.Range(0, items.Count).ToArray();
        new Random(seed).Shuffle(order);
        return order.Take(max).Order().Select(i => items[i]).ToArray();
    }

    static void Prm800kIn(RunFolder run, string trainPath, string testPath, Prm800kClassifierOptions options, int maxTrain, int maxTest, int seed, TextWriter stdout)
    {
        var neutralName = options.Neutral.ToString().ToLowerInvariant();
        run.WriteConfig(new
        {
            verb = "prm prm800k", train = Path.GetFullPath(trainPath), test = Path.GetFullPath(testPath), neutral = neutralName,
            problem_bytes = options.ProblemBytes, prefix_bytes = options.PrefixBytes, step_bytes = options.StepBytes,
            arch = ArchName(options.Encoder.Architecture), layers = options.Encoder.Layers, width = options.Encoder.Width,
            steps = options.Training.Steps, batch_size = options.Training.BatchSize, lr = options.Training.LearningRate, max_train = maxTrain, max_test = maxTest, seed,
        });
        var trainSet = Subset(Prm800kStepClassifier.Labelled(Prm800kLoader.Read(trainPath), options.Neutral), maxTrain, seed);
        var testSet = Subset(Prm800kStepClassifier.Labelled(Prm800kLoader.Read(testPath), options.Neutral), maxTest, seed + 1);
        if (trainSet.Count == 0 || testSet.Count == 0) throw new UserError($"{(trainSet.Count == 0 ? trainPath : testPath)} has no rated steps.");
        var labels = testSet.Select(x => x.Positive).ToArray();
        static double? Finite(double x) => double.IsFinite(x) ? x : null;

        // Baselines first: they take seconds and say what "better than trivial" means here.
        var lengthAuc = VerifierEvaluation.RankRocAuc(testSet.Select(x => (double)Encoding.UTF8.GetByteCount(x.Rating.Step)).ToArray(), labels);
        var ngram = new HashedNgramClassifier();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ngram.Train(trainSet.Select(x => (ngram.Features(x.Rating), x.Positive)).ToArray(), seed: seed);
        var ngramAuc = VerifierEvaluation.RankRocAuc(testSet.Select(x => ngram.Predict(ngram.Features(x.Rating))).ToArray(), labels);
        stdout.WriteLine($"baselines: step length ROC-AUC {F3(lengthAuc)}, word n-gram logistic regression {F3(ngramAuc)} ({clock.Elapsed.TotalSeconds:F0} s)");

        var losses = new List<double>();
        StepVerifier classifier;
        clock.Restart();
        using (var progress = new ProgressBar("prm prm800k: train", options.Training.Steps))
        {
            classifier = Prm800kStepClassifier.Train(trainSet, options, (step, loss, lr) =>
            {
                losses.Add(loss);
                if (step % 10 == 0 || step == options.Training.Steps - 1) run.AppendMetrics(new { step, loss, lr });
                progress.Report(step + 1, $"loss {loss:F3}");
            });
        }
        var trainMinutes = clock.Elapsed.TotalMinutes;
        double[] scores;
        using (classifier)
        using (var progress = new ProgressBar("prm prm800k: score", testSet.Count))
        {
            scores = Prm800kStepClassifier.Score(classifier, testSet.Select(x => x.Rating).ToArray(), options, done => progress.Report(done));
            classifier.Save(run.File("classifier"));
        }
        var auc = VerifierEvaluation.RankRocAuc(scores, labels);
        var accuracy = scores.Zip(labels).Count(x => x.First >= 0.5 == x.Second) / (double)scores.Length;
        var positiveShare = labels.Count(l => l) / (double)labels.Length;
        var finalLoss = losses.Skip(Math.Max(0, losses.Count - 20)).Average();
        run.WriteJson("results.json", new
        {
            roc_auc = Finite(auc), accuracy = Finite(accuracy), encoder = $"byte-level {ArchName(options.Encoder.Architecture)} ({options.Encoder.Layers} layers, width {options.Encoder.Width}) trained from scratch",
            neutral = neutralName, train_steps_rated = trainSet.Count, test_steps_rated = testSet.Count, test_positive_share = positiveShare,
            majority_class_accuracy = Math.Max(positiveShare, 1 - positiveShare), final_train_loss = finalLoss, train_minutes = trainMinutes,
            baselines = new { class_prior_roc_auc = 0.5, step_length_roc_auc = Finite(lengthAuc), word_ngram_logistic_roc_auc = Finite(ngramAuc) },
        });
        var table = new TextTable("classifier", "step ROC-AUC", "accuracy");
        table.Add("class prior (always the same score)", "0.500", F3(Math.Max(positiveShare, 1 - positiveShare)));
        table.Add("step length in bytes (longer = correct)", F3(lengthAuc), "-");
        table.Add("hashed word n-gram logistic regression", F3(ngramAuc), "-");
        table.Add($"byte-level {ArchName(options.Encoder.Architecture)} {options.Encoder.Layers}x{options.Encoder.Width}, {options.Training.Steps} updates", F3(auc), F3(accuracy));
        stdout.WriteLine($"results: {run.File("results.json")}");
        stdout.Write(table.ToText());
        run.WriteReport($"# prm prm800k\n\nStep-level correctness on PRM800K phase 1: trained on {trainSet.Count} rated steps of `{Path.GetFileName(trainPath)}`, " +
                        $"scored on {testSet.Count} rated steps of `{Path.GetFileName(testPath)}` ({positiveShare:P1} positive; neutral ratings: {neutralName}). " +
                        $"Input: first {options.ProblemBytes} bytes of the problem, last {options.PrefixBytes} of the earlier steps, first {options.StepBytes} of the step. " +
                        $"Final training loss {finalLoss:F3}; {trainMinutes:F1} min of training.\n\n{table.ToMarkdown()}\n");
    }
}

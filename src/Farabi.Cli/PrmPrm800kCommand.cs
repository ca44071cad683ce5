using System.CommandLine;
using System.Globalization;
using System.Text;
using Farabi.Research.ProcessSupervision;
using Farabi.Towers;

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
        var encoder = new Option<string>("--encoder") { Description = "minilm: frozen all-MiniLM-L6-v2 embeddings of (step, previous step, problem) + logistic-regression probe; byte-lm: a small byte-level transformer trained from scratch with its head.", DefaultValueFactory = _ => "minilm" };
        encoder.AcceptOnlyFromAmong("minilm", "byte-lm");
        var cache = new Option<string?>("--cache") { Description = "Embedding cache folder for minilm (default: $FARABI_CACHE/embeddings or ~/.cache/farabi/embeddings)." };
        var steps = IntOption("--steps", d.Training.Steps, "Updates of the byte-level encoder and head (byte-lm).");
        var batch = IntOption("--batch-size", d.Training.BatchSize, "Steps per update.");
        var lr = DoubleOption("--lr", d.Training.LearningRate, "Peak learning rate.");
        var layers = IntOption("--layers", d.Encoder.Layers, "Encoder layers.");
        var width = IntOption("--width", d.Encoder.Width, "Encoder width (4 heads).");
        var maxTrain = IntOption("--max-train", 3000, "Use at most this many training steps (a seeded random subset; 0 = all). MiniLM embeds ~5-50 steps/s on one core.");
        var maxTest = IntOption("--max-test", 1500, "Score at most this many test steps (a seeded random subset; 0 = all).");
        var seed = IntOption("--seed", 0, "Seed of weights, subsets and batches.");
        var output = OutOption("prm-prm800k");
        var threads = ThreadsOption();
        var cmd = new Command("prm800k", "Train a step classifier on PRM800K phase-1 ratings and report step-level ROC-AUC on its test file, with trivial baselines.")
            { train, test, neutral, encoder, cache, steps, batch, lr, layers, width, maxTrain, maxTest, seed, output, threads };
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
            Prm800kIn(run, parse.GetValue(train)!, parse.GetValue(test)!, parse.GetValue(encoder) == "minilm", parse.GetValue(cache), options,
                parse.GetValue(maxTrain), parse.GetValue(maxTest), s, parse.InvocationConfiguration.Output);
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

    static void Prm800kIn(RunFolder run, string trainPath, string testPath, bool miniLm, string? cacheDir, Prm800kClassifierOptions options,
        int maxTrain, int maxTest, int seed, TextWriter stdout)
    {
        var neutralName = options.Neutral.ToString().ToLowerInvariant();
        run.WriteConfig(new
        {
            verb = "prm prm800k", train = Path.GetFullPath(trainPath), test = Path.GetFullPath(testPath), neutral = neutralName,
            encoder = miniLm ? "minilm" : "byte-lm", max_train = maxTrain, max_test = maxTest, seed,
            problem_bytes = options.ProblemBytes, prefix_bytes = options.PrefixBytes, step_bytes = options.StepBytes,
            arch = ArchName(options.Encoder.Architecture), layers = options.Encoder.Layers, width = options.Encoder.Width,
            steps = options.Training.Steps, batch_size = options.Training.BatchSize, lr = options.Training.LearningRate,
        });
        var allTrain = Prm800kStepClassifier.Labelled(Prm800kLoader.Read(trainPath), options.Neutral);
        var trainSet = Subset(allTrain, maxTrain, seed);
        var testSet = Subset(Prm800kStepClassifier.Labelled(Prm800kLoader.Read(testPath), options.Neutral), maxTest, seed + 1);
        if (trainSet.Count == 0 || testSet.Count == 0) throw new UserError($"{(trainSet.Count == 0 ? trainPath : testPath)} has no rated steps.");
        var labels = testSet.Select(x => x.Positive).ToArray();
        static double? Finite(double x) => double.IsFinite(x) ? x : null;

        // Baselines first: they take seconds and say what "better than trivial" means here.
        // The length baseline's direction (longer or shorter = correct) is read off the training steps, not the test steps.
        static double Length(Prm800kStepRating r) => Encoding.UTF8.GetByteCount(r.Step);
        var longerIsCorrect = VerifierEvaluation.RankRocAuc(trainSet.Select(x => Length(x.Rating)).ToArray(), trainSet.Select(x => x.Positive).ToArray()) >= 0.5;
        var lengthAuc = VerifierEvaluation.RankRocAuc(testSet.Select(x => longerIsCorrect ? Length(x.Rating) : -Length(x.Rating)).ToArray(), labels);
        double NgramAuc(IReadOnlyList<(Prm800kStepRating Rating, bool Positive)> data)
        {
            var ngram = HashedNgramClassifier.FitWithValidation(data, seed);
            return VerifierEvaluation.RankRocAuc(testSet.Select(x => ngram.Predict(ngram.Features(x.Rating))).ToArray(), labels);
        }
        var ngramAuc = NgramAuc(trainSet);
        var ngramAllAuc = trainSet.Count == allTrain.Count ? ngramAuc : NgramAuc(allTrain);
        stdout.WriteLine($"baselines: step length ROC-AUC {F3(lengthAuc)}, word n-gram logistic regression {F3(ngramAuc)} ({trainSet.Count} training steps), {F3(ngramAllAuc)} ({allTrain.Count})");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        double[] scores;
        string encoderName;
        double? finalLoss = null;
        if (miniLm)
        {
            using var tower = new MiniLmEncoder();
            var store = new EmbeddingCache(cacheDir);
            float[][] Embed(IReadOnlyList<(Prm800kStepRating Rating, bool Positive)> set, string what)
            {
                using var progress = new ProgressBar($"prm prm800k: MiniLM {what}", set.Count);
                return store.Embed(tower, set.Select(x => Prm800kStepClassifier.ProbeText(x.Rating)).ToArray(), new Progress<int>(n => progress.Report(n)));
            }
            var trainEmbeddings = Embed(trainSet, "train");
            var testEmbeddings = Embed(testSet, "test");
            scores = Prm800kStepClassifier.ProbeScores(trainEmbeddings, trainSet.Select(x => x.Positive).ToArray(), testEmbeddings, seed: seed);
            encoderName = "frozen all-MiniLM-L6-v2 (step, previous step, problem) + logistic regression";
        }
        else
        {
            var losses = new List<double>();
            StepVerifier classifier;
            using (var progress = new ProgressBar("prm prm800k: train", options.Training.Steps))
            {
                classifier = Prm800kStepClassifier.Train(trainSet, options, (step, loss, lr) =>
                {
                    losses.Add(loss);
                    if (step % 10 == 0 || step == options.Training.Steps - 1) run.AppendMetrics(new { step, loss, lr });
                    progress.Report(step + 1, $"loss {loss:F3}");
                });
            }
            using (classifier)
            using (var progress = new ProgressBar("prm prm800k: score", testSet.Count))
            {
                scores = Prm800kStepClassifier.Score(classifier, testSet.Select(x => x.Rating).ToArray(), options, done => progress.Report(done));
                classifier.Save(run.File("classifier"));
            }
            finalLoss = losses.Skip(Math.Max(0, losses.Count - 20)).Average();
            encoderName = $"byte-level {ArchName(options.Encoder.Architecture)} ({options.Encoder.Layers} layers, width {options.Encoder.Width}) trained from scratch, {options.Training.Steps} updates";
        }
        var minutes = clock.Elapsed.TotalMinutes;
        var auc = VerifierEvaluation.RankRocAuc(scores, labels);
        var accuracy = scores.Zip(labels).Count(x => x.First >= 0.5 == x.Second) / (double)scores.Length;
        var positiveShare = labels.Count(l => l) / (double)labels.Length;
        run.WriteJson("results.json", new
        {
            roc_auc = Finite(auc), accuracy = Finite(accuracy), encoder = encoderName,
            neutral = neutralName, train_steps_rated = trainSet.Count, test_steps_rated = testSet.Count, test_positive_share = positiveShare,
            majority_class_accuracy = Math.Max(positiveShare, 1 - positiveShare), final_train_loss = finalLoss, minutes,
            baselines = new
            {
                class_prior_roc_auc = 0.5, step_length_roc_auc = Finite(lengthAuc), step_length_direction = longerIsCorrect ? "longer is correct" : "shorter is correct", word_ngram_logistic_roc_auc = Finite(ngramAuc),
                word_ngram_logistic_all_train_roc_auc = Finite(ngramAllAuc), all_train_steps_rated = allTrain.Count,
            },
        });
        var table = new TextTable("classifier", "trained on", "step ROC-AUC", "accuracy");
        table.Add("class prior (one score for all)", "-", "0.500", F3(Math.Max(positiveShare, 1 - positiveShare)));
        table.Add($"step length in bytes ({(longerIsCorrect ? "longer" : "shorter")} = correct, direction from the training steps)", trainSet.Count, F3(lengthAuc), "-");
        table.Add("hashed word n-gram logistic regression", trainSet.Count, F3(ngramAuc), "-");
        if (trainSet.Count != allTrain.Count) table.Add("hashed word n-gram logistic regression", allTrain.Count, F3(ngramAllAuc), "-");
        table.Add(encoderName, trainSet.Count, F3(auc), F3(accuracy));
        stdout.WriteLine($"results: {run.File("results.json")}");
        stdout.Write(table.ToText());
        run.WriteReport($"# prm prm800k\n\nStep-level correctness on PRM800K phase 1: trained on {trainSet.Count} rated steps of `{Path.GetFileName(trainPath)}`, " +
                        $"scored on {testSet.Count} rated steps of `{Path.GetFileName(testPath)}` ({positiveShare:P1} positive; neutral ratings: {neutralName}). " +
                        $"{minutes:F1} min for the encoder.\n\n{table.ToMarkdown()}\n");
    }
}

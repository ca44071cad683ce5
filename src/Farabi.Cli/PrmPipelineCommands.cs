using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Farabi.Cli.Plots;
using Farabi.Models;
using Farabi.Research.ProcessSupervision;

namespace Farabi.Cli;

/// <summary>
/// The neural half of <c>farabi prm</c>: <c>train-generator</c> → <c>sample</c> → <c>train-verifier --kind
/// prm|orm</c> → <c>best-of-n</c>, chained through folder paths, and <c>run</c> doing all of it at small
/// scale. Each verb writes a run folder (config.json, metrics.jsonl, report.md).
/// </summary>
static partial class PrmCommands
{
    static IEnumerable<Command> PipelineVerbs() => [TrainGenerator(), Sample(), TrainVerifier(), BestOfNVerb(), RunAll()];

    /// <summary>Sizes of a whole pipeline run.</summary>
    internal sealed record PipelineScale(SolutionGeneratorOptions Generator, SamplingPlan Sampling, VerifierTrainingOptions Verifier, int Resamples)
    {
        static ArithmeticProblemOptions DemoProblems => new() { MinSteps = 1, MaxSteps = 2, Digits = 1, MaxValue = 20 };

        /// <summary>The scale of <c>prm run</c> with no arguments (about 35 CPU-minutes with one libtorch thread: 1,500 generator updates of 16, 1,024 × 16 training and 256 × 64 test samples, 2,000 updates per verifier).</summary>
        public static PipelineScale Default => new(new SolutionGeneratorOptions(), new SamplingPlan(), new VerifierTrainingOptions(), 200);

        /// <summary>
        /// The <c>farabi demo</c> stage: a tiny generator, N up to 16 on 64 held-out problems, about 2 minutes on one
        /// core. Its problems are easier (1–2 calculations, values up to 20) and it samples at T = 0.7, so that a tiny
        /// generator already writes some right steps (at 300 updates it copied no operand right: every step label was −1).
        /// (One run: 18% of samples right; best-of-16 PRM 31.2%, ORM 23.4%, majority 25.0%, with paired intervals that
        /// show how little 64 problems decide.)
        /// </summary>
        public static PipelineScale Demo => new(
            new SolutionGeneratorOptions { Width = 64, Steps = 1200, BatchSize = 8, Problems = DemoProblems },
            new SamplingPlan { TrainProblems = 64, TrainSamples = 8, TestProblems = 64, TestSamples = 16, Temperature = 0.7, Problems = DemoProblems },
            new VerifierTrainingOptions { Steps = 150, BatchSize = 8 },
            100);
    }

    // ---------------------------------------------------------------- options shared by the verbs

    static Option<string?> OutOption(string verb) => new("--out") { Description = $"Run folder to write (default: a new runs/{verb}-<time>/)." };
    static Option<int?> ThreadsOption() => new("--threads") { Description = "libtorch intra-op threads (default: libtorch's choice; 1 is fastest for these tiny models on a busy machine)." };

    static void ApplyThreads(ParseResult parse, Option<int?> threads)
    {
        if (parse.GetValue(threads) is not int n) return;
        if (n < 1) throw new UserError($"--threads must be at least 1, not {n}.");
        Farabi.Training.TorchThreads.Set(n);
    }

    static Option<int> IntOption(string name, int value, string description) => new(name) { Description = description, DefaultValueFactory = _ => value };
    static Option<double> DoubleOption(string name, double value, string description) => new(name) { Description = description, DefaultValueFactory = _ => value };

    /// <summary>
    /// The difficulty options of the built-in problems (<c>--problem-steps</c>, <c>--digits</c>, <c>--max-factor</c>,
    /// <c>--max-value</c>). Each is optional: what is not given comes from <see cref="Resolve"/>'s fallback
    /// (the defaults, or for <c>prm sample</c> the task the generator was trained on).
    /// </summary>
    sealed class ProblemOptionSet
    {
        public readonly Option<string?> Steps = new("--problem-steps") { Description = "Calculations per problem: N or MIN..MAX." };
        public readonly Option<int?> Digits = new("--digits") { Description = "Digits of the amounts the problems state." };
        public readonly Option<int?> MaxFactor = new("--max-factor") { Description = "Largest multiplier or divisor." };
        public readonly Option<long?> MaxValue = new("--max-value") { Description = "Largest value any step may produce (smaller keeps the arithmetic within a small model's reach)." };

        public ProblemOptionSet(ArithmeticProblemOptions shown, string fallbackNote)
        {
            Steps.Description += $" Default: {shown.MinSteps}..{shown.MaxSteps}{fallbackNote}.";
            Digits.Description += $" Default: {shown.Digits}{fallbackNote}.";
            MaxFactor.Description += $" Default: {shown.MaxFactor}{fallbackNote}.";
            MaxValue.Description += $" Default: {shown.MaxValue}{fallbackNote}.";
        }

        public IEnumerable<Option> All => [Steps, Digits, MaxFactor, MaxValue];

        /// <summary>The options given, the rest from <paramref name="fallback"/>; throws <see cref="UserError"/> naming a bad one.</summary>
        public ArithmeticProblemOptions Resolve(ParseResult parse, ArithmeticProblemOptions fallback)
        {
            var o = fallback;
            if (parse.GetValue(Steps) is { } steps)
            {
                var (min, max) = ParseSteps(steps);
                if (min < 1 || max < min || max > 8) throw new UserError($"--problem-steps must lie within 1..8 with MIN <= MAX, not {steps}.");
                o = o with { MinSteps = min, MaxSteps = max };
            }
            if (parse.GetValue(Digits) is { } digits)
            {
                if (digits is < 1 or > 4) throw new UserError($"--digits must be between 1 and 4, not {digits}.");
                o = o with { Digits = digits };
            }
            if (parse.GetValue(MaxFactor) is { } factor)
            {
                if (factor is < 2 or > 99) throw new UserError($"--max-factor must be between 2 and 99, not {factor}.");
                o = o with { MaxFactor = factor };
            }
            if (parse.GetValue(MaxValue) is { } value)
            {
                if (value < 10) throw new UserError($"--max-value must be at least 10, not {value}.");
                o = o with { MaxValue = value };
            }
            try { o.Validate(); }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            return o;
        }
    }

    static Option<double> DrillOption(double value) => DoubleOption("--drill-share", value,
        "Share of generator training documents that are arithmetic drill (calculation lines of fresh problems, loss on every byte) instead of problems (0..1).");

    static void CheckShare(double value, string option)
    {
        if (value is < 0 or > 1 or double.NaN) throw new UserError($"{option} must be between 0 and 1, not {value.ToString(CultureInfo.InvariantCulture)}.");
    }

    static Option<double> LmLossOption(double value) => DoubleOption("--lm-loss", value,
        "Weight of a next-byte language-model loss kept while training a verifier, on the bytes its labels call correct (steps for a PRM, whole solutions for an ORM); 0: the head's loss alone.");

    static Option<bool> SurprisalOption(bool value) => new("--surprisal")
    {
        Description = "The verifier's head also reads the lowest and mean log-probability its language model gives each step's bytes (PRM) or the solution's (ORM).",
        DefaultValueFactory = _ => value,
    };

    static void CheckLmLoss(double value)
    {
        if (value is < 0 or double.NaN or double.PositiveInfinity) throw new UserError($"--lm-loss must be 0 or more, not {value.ToString(CultureInfo.InvariantCulture)}.");
    }

    static Option<string> ArchOption()
    {
        var o = new Option<string>("--arch") { Description = "Transformer family: llama (rotary positions; learns to copy operands much sooner) or gpt2 (learned absolute positions).", DefaultValueFactory = _ => "llama" };
        o.AcceptOnlyFromAmong("llama", "gpt2");
        return o;
    }

    static GeneratorArchitecture ParseArch(string name) => name == "gpt2" ? GeneratorArchitecture.Gpt2 : GeneratorArchitecture.Llama;
    static string ArchName(GeneratorArchitecture a) => a == GeneratorArchitecture.Gpt2 ? "gpt2" : "llama";

    /// <summary>The file in a generator folder naming the problems it was trained on, so sampling draws the same kind.</summary>
    const string TaskFileName = "task.json";

    static void WriteTask(string generatorDir, ArithmeticProblemOptions o) =>
        Farabi.Tokenizers.AtomicFile.WriteText(Path.Combine(generatorDir, TaskFileName),
            new JsonObject { ["min_steps"] = o.MinSteps, ["max_steps"] = o.MaxSteps, ["digits"] = o.Digits, ["max_factor"] = o.MaxFactor, ["max_value"] = o.MaxValue }
                .ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>The problems a generator folder was trained on (its task.json), or null for a folder without one.</summary>
    static ArithmeticProblemOptions? ReadTask(string generatorDir)
    {
        var path = Path.Combine(generatorDir, TaskFileName);
        if (!File.Exists(path)) return null;
        var node = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty.");
        int Int(string key) => node[key]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: missing \"{key}\".");
        return new ArithmeticProblemOptions
        {
            MinSteps = Int("min_steps"), MaxSteps = Int("max_steps"), Digits = Int("digits"), MaxFactor = Int("max_factor"),
            MaxValue = node["max_value"]?.GetValue<long>() ?? throw new InvalidDataException($"{path}: missing \"max_value\"."),
        };
    }

    static void RequirePositive(int value, string option)
    {
        if (value < 1) throw new UserError($"{option} must be at least 1, not {value}.");
    }

    /// <summary>A model folder: <paramref name="dir"/> itself when it holds a model, else its <paramref name="sub"/> folder.</summary>
    static string ResolveFolder(string dir, string sub, string marker, string option)
    {
        if (File.Exists(Path.Combine(dir, marker))) return Path.GetFullPath(dir);
        var inner = Path.Combine(dir, sub);
        if (File.Exists(Path.Combine(inner, marker))) return Path.GetFullPath(inner);
        throw new UserError($"{option} '{dir}' holds no {marker} (neither it nor its {sub}/ folder is a {sub} folder).");
    }

    static string F1(double percent) => double.IsNaN(percent) ? "-" : percent.ToString("F1", CultureInfo.InvariantCulture);
    static string F3(double x) => double.IsNaN(x) ? "-" : x.ToString("F3", CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- train-generator

    static Command TrainGenerator()
    {
        var d = new SolutionGeneratorOptions();
        var steps = IntOption("--steps", d.Steps, "Optimizer updates.");
        var batch = IntOption("--batch-size", d.BatchSize, "Problems per update.");
        var layers = IntOption("--layers", d.Layers, "Transformer layers.");
        var width = IntOption("--width", d.Width, "Model width.");
        var heads = IntOption("--heads", d.Heads, "Attention heads.");
        var lr = DoubleOption("--lr", d.LearningRate, "Peak learning rate.");
        var corrupt = DoubleOption("--corrupt-share", d.CorruptShare, "Share of training solutions with one deliberate mistake (0..1).");
        var drill = DrillOption(d.DrillShare);
        var problemOptions = new ProblemOptionSet(d.Problems, "");
        var arch = ArchOption();
        var init = new Option<string?>("--init") { Description = "Go on training this generator (a train-generator run or model folder) instead of a fresh one; its size wins over --layers/--width/--heads/--arch." };
        var seed = IntOption("--seed", d.Seed, "Seed of weights and problems.");
        var output = OutOption("prm-train-generator");
        var threads = ThreadsOption();
        var cmd = new Command("train-generator", "Train the byte-level generator GPT on generated problems (a share with realistic mistakes).")
            { steps, batch, layers, width, heads, lr, corrupt, drill, arch, init, seed, output, threads };
        foreach (var o in problemOptions.All) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            ApplyThreads(parse, threads);
            foreach (var (o, name) in new[] { (steps, "--steps"), (batch, "--batch-size"), (layers, "--layers"), (width, "--width"), (heads, "--heads") })
                RequirePositive(parse.GetValue(o), name);
            CheckShare(parse.GetValue(corrupt), "--corrupt-share");
            CheckShare(parse.GetValue(drill), "--drill-share");
            if (parse.GetValue(width) % parse.GetValue(heads) != 0) throw new UserError($"--width {parse.GetValue(width)} must be divisible by --heads {parse.GetValue(heads)}.");
            var options = new SolutionGeneratorOptions
            {
                Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), Layers = parse.GetValue(layers), Width = parse.GetValue(width),
                Heads = parse.GetValue(heads), LearningRate = parse.GetValue(lr), CorruptShare = parse.GetValue(corrupt), DrillShare = parse.GetValue(drill),
                Problems = problemOptions.Resolve(parse, d.Problems), Seed = parse.GetValue(seed), Architecture = ParseArch(parse.GetValue(arch)!),
            };
            var run = RunFolder.Create("prm-train-generator", parse.GetValue(output));
            var initDir = parse.GetValue(init) is { } i ? ResolveFolder(i, "generator", CausalLanguageModel.WeightsFileName, "--init") : null;
            var (_, markdown) = TrainGeneratorIn(run, options, parse.InvocationConfiguration.Output, initDir);
            run.WriteReport(markdown);
            return 0;
        });
        return cmd;
    }

    /// <summary>Trains and saves the generator in <c>run/generator/</c>; returns its folder and a report section.</summary>
    static (string ModelDir, string Markdown) TrainGeneratorIn(RunFolder run, SolutionGeneratorOptions options, TextWriter stdout, string? initDir = null)
    {
        var init = initDir == null ? null : CausalLanguageModel.Load(initDir);
        if (init != null)
        {
            // Report the size actually trained, which is the loaded model's.
            var c = init.Config;
            options = options with { Layers = c.NumLayers, Width = c.HiddenWidth, Architecture = init is Gpt2LMHeadModel ? GeneratorArchitecture.Gpt2 : GeneratorArchitecture.Llama };
        }
        run.WriteConfig(new
        {
            verb = "prm train-generator", init = initDir, arch = ArchName(options.Architecture), steps = options.Steps, batch_size = options.BatchSize, layers = options.Layers, width = options.Width,
            heads = options.Heads, context = options.ContextLength, lr = options.LearningRate, corrupt_share = options.CorruptShare, drill_share = options.DrillShare,
            problem_steps = $"{options.Problems.MinSteps}..{options.Problems.MaxSteps}", digits = options.Problems.Digits,
            max_factor = options.Problems.MaxFactor, max_value = options.Problems.MaxValue, seed = options.Seed,
        });
        var losses = new List<double>();
        CausalLanguageModel model;
        using (var progress = new ProgressBar("prm train-generator", options.Steps))
        {
            model = SolutionGenerator.Train(options, (step, loss, lr) =>
            {
                losses.Add(loss);
                if (step % 10 == 0 || step == options.Steps - 1) run.AppendMetrics(new { step, loss, lr });
                progress.Report(step + 1, $"loss {loss:F3}");
            }, init);
        }
        var dir = run.File("generator");
        model.SaveHf(dir);
        WriteTask(dir, options.Problems);
        // Greedy decoding on unseen problems: how often the model's most likely solution is right.
        var probe = new ArithmeticProblemGenerator(options.Problems, options.Seed + 7919).Generate(20);
        var right = probe.Count(p => StepChecker.Check(p.Reference, SolutionGenerator.Sample(model, p.Prompt, 1, 0, 80, 0)[0]).IsCorrect);
        var finalLoss = losses.Skip(Math.Max(0, losses.Count - 20)).Average();
        model.Dispose();
        stdout.WriteLine($"generator: {dir}");
        stdout.WriteLine($"final loss {finalLoss:F3} (mean of last 20 updates), greedy solutions right on {right}/{probe.Count} unseen problems");
        var md = $"## Generator\n\n{(initDir == null ? "" : $"Continues `{initDir}`. ")}Byte-level {(options.Architecture == GeneratorArchitecture.Gpt2 ? "GPT-2" : "LLaMA")} ({options.Layers} layers, width {options.Width}), {options.Steps} updates of {options.BatchSize} problems, " +
                 $"{options.CorruptShare:P0} of training solutions corrupted, {options.DrillShare:P0} of documents arithmetic drill. Final solution loss {finalLoss:F3} nats/byte; greedy solutions right on " +
                 $"{right}/{probe.Count} unseen problems. Model: `{Path.GetRelativePath(run.Path, dir)}/`.\n";
        return (dir, md);
    }

    // ---------------------------------------------------------------- sample

    static Command Sample()
    {
        var d = new SamplingPlan();
        var generator = new Option<string>("--generator") { Description = "The generator: a train-generator run folder or a model folder.", Required = true };
        var trainProblems = IntOption("--train-problems", d.TrainProblems, "Problems whose samples train the verifiers.");
        var trainSamples = IntOption("--train-samples", d.TrainSamples, "Samples per training problem.");
        var testProblems = IntOption("--test-problems", d.TestProblems, "Held-out problems for best-of-N.");
        var n = IntOption("--n", d.TestSamples, "Samples per held-out problem (N_max).");
        var temperature = DoubleOption("--temperature", d.Temperature, "Sampling temperature.");
        var problemOptions = new ProblemOptionSet(d.Problems, ", or what the generator was trained on");
        var seed = IntOption("--seed", d.Seed, "Seed of problems and draws (differ from the generator's to keep problems unseen).");
        var output = OutOption("prm-sample");
        var threads = ThreadsOption();
        var cmd = new Command("sample", "Sample N solutions per problem from the generator and write samples.jsonl (train and held-out test problems).")
            { generator, trainProblems, trainSamples, testProblems, n, temperature, seed, output, threads };
        foreach (var o in problemOptions.All) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            ApplyThreads(parse, threads);
            foreach (var (o, name) in new[] { (trainProblems, "--train-problems"), (trainSamples, "--train-samples"), (testProblems, "--test-problems"), (n, "--n") })
                RequirePositive(parse.GetValue(o), name);
            if (parse.GetValue(temperature) is < 0 or double.NaN) throw new UserError("--temperature must be 0 or more.");
            var model = ResolveFolder(parse.GetValue(generator)!, "generator", CausalLanguageModel.WeightsFileName, "--generator");
            var plan = new SamplingPlan
            {
                TrainProblems = parse.GetValue(trainProblems), TrainSamples = parse.GetValue(trainSamples), TestProblems = parse.GetValue(testProblems),
                TestSamples = parse.GetValue(n), Temperature = parse.GetValue(temperature),
                Problems = problemOptions.Resolve(parse, ReadTask(model) ?? d.Problems), Seed = parse.GetValue(seed),
            };
            var run = RunFolder.Create("prm-sample", parse.GetValue(output));
            var (_, markdown) = SampleIn(run, model, plan, parse.InvocationConfiguration.Output);
            run.WriteReport(markdown);
            return 0;
        });
        return cmd;
    }

    /// <summary>Samples into <c>run/samples.jsonl</c>; returns its path and a report section.</summary>
    static (string SamplesPath, string Markdown) SampleIn(RunFolder run, string generatorDir, SamplingPlan plan, TextWriter stdout)
    {
        run.WriteConfig(new
        {
            verb = "prm sample", generator = generatorDir, train_problems = plan.TrainProblems, train_samples = plan.TrainSamples,
            test_problems = plan.TestProblems, n = plan.TestSamples, temperature = plan.Temperature, max_new_tokens = plan.MaxNewTokens,
            problem_steps = $"{plan.Problems.MinSteps}..{plan.Problems.MaxSteps}", digits = plan.Problems.Digits,
            max_factor = plan.Problems.MaxFactor, max_value = plan.Problems.MaxValue, seed = plan.Seed,
        });
        IReadOnlyList<ProblemSamples> problems;
        using (var model = CausalLanguageModel.Load(generatorDir))
        using (var progress = new ProgressBar("prm sample", plan.TrainProblems + plan.TestProblems))
            problems = BestOfNPipeline.Sample(model, plan, i => progress.Report(i + 1));
        var path = run.File("samples.jsonl");
        ProblemSamples.WriteFile(path, problems);
        var table = new TextTable("split", "problems", "samples each", "samples right", "problems with a right sample", "steps labelled +1 / -1 / masked");
        foreach (var split in new[] { "train", "test" })
        {
            var part = problems.Where(p => p.Split == split).ToArray();
            if (part.Length == 0) continue;
            var (acc, coverage) = BestOfNPipeline.Accuracy(part);
            var labels = part.SelectMany(p => p.Checks.SelectMany(c => c.StepLabels)).ToArray();
            table.Add(split, part.Length, part[0].Samples.Count, $"{F1(100 * acc)}%", $"{F1(100 * coverage)}%",
                $"{labels.Count(l => l == 1)} / {labels.Count(l => l == -1)} / {labels.Count(l => l == 0)}");
            run.AppendMetrics(new { split, problems = part.Length, sample_accuracy = acc, coverage });
        }
        stdout.WriteLine($"samples: {path}");
        stdout.Write(table.ToText());
        var md = $"## Samples\n\nTemperature {plan.Temperature.ToString(CultureInfo.InvariantCulture)}, at most {plan.MaxNewTokens} bytes per solution. " +
                 $"File: `{Path.GetRelativePath(run.Path, path)}`.\n\n{table.ToMarkdown()}\n";
        return (path, md);
    }

    // ---------------------------------------------------------------- train-verifier

    static Command TrainVerifier()
    {
        var d = new VerifierTrainingOptions();
        var kind = new Option<string>("--kind") { Description = "prm (per-step head, step labels) or orm (final-token head, outcome labels).", Required = true };
        kind.AcceptOnlyFromAmong("prm", "orm");
        var samples = new Option<string>("--samples") { Description = "samples.jsonl from prm sample (its train problems are trained on).", Required = true };
        var generator = new Option<string?>("--generator") { Description = "Initial weights: a generator run or model folder (default: the generator the samples came from)." };
        var steps = IntOption("--steps", d.Steps, "Optimizer updates.");
        var batch = IntOption("--batch-size", d.BatchSize, "Solutions per update.");
        var lr = DoubleOption("--lr", d.LearningRate, "Peak learning rate.");
        var seed = IntOption("--seed", d.Seed, "Seed of the head and the batch order.");
        var positiveWeight = DoubleOption("--positive-weight", d.PositiveWeight, "Loss weight of a correct step or solution relative to a wrong one (above 1 counters rare correct ones).");
        var valProblems = IntOption("--val-problems", 0, "Train problems held back from training to measure a held-out ROC-AUC curve on (0: the curve uses the first 10 test problems).");
        var evalEvery = IntOption("--eval-every", d.EvalEvery, "Measure the held-out ROC-AUC every this many updates (0: only at the end).");
        var lmLoss = LmLossOption(d.LmLossWeight);
        var surprisal = SurprisalOption(d.Surprisal);
        var output = OutOption("prm-train-verifier");
        var threads = ThreadsOption();
        var cmd = new Command("train-verifier", "Train a process (PRM) or outcome (ORM) reward model on the generator's labelled samples.")
            { kind, samples, generator, steps, batch, lr, seed, positiveWeight, valProblems, evalEvery, lmLoss, surprisal, output, threads };
        cmd.SetAction(parse =>
        {
            ApplyThreads(parse, threads);
            RequirePositive(parse.GetValue(steps), "--steps");
            RequirePositive(parse.GetValue(batch), "--batch-size");
            if (parse.GetValue(positiveWeight) <= 0) throw new UserError($"--positive-weight must be above 0, not {parse.GetValue(positiveWeight)}.");
            if (parse.GetValue(valProblems) < 0) throw new UserError($"--val-problems must be 0 or more, not {parse.GetValue(valProblems)}.");
            if (parse.GetValue(evalEvery) < 0) throw new UserError($"--eval-every must be 0 or more, not {parse.GetValue(evalEvery)}.");
            CheckLmLoss(parse.GetValue(lmLoss));
            var samplesPath = parse.GetValue(samples)!;
            if (!File.Exists(samplesPath)) throw new FileNotFoundException($"{samplesPath} does not exist.", samplesPath);
            var generatorDir = parse.GetValue(generator) is { } g
                ? ResolveFolder(g, "generator", CausalLanguageModel.WeightsFileName, "--generator")
                : GeneratorOfSamples(samplesPath);
            var options = new VerifierTrainingOptions
            {
                Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr), Seed = parse.GetValue(seed),
                PositiveWeight = parse.GetValue(positiveWeight), EvalEvery = parse.GetValue(evalEvery), LmLossWeight = parse.GetValue(lmLoss),
                Surprisal = parse.GetValue(surprisal),
            };
            var k = parse.GetValue(kind) == "prm" ? VerifierKind.Process : VerifierKind.Outcome;
            var run = RunFolder.Create($"prm-train-{parse.GetValue(kind)}", parse.GetValue(output));
            var (_, markdown) = TrainVerifierIn(run, k, samplesPath, ProblemSamples.ReadFile(samplesPath), generatorDir, options, parse.InvocationConfiguration.Output, parse.GetValue(valProblems));
            run.WriteReport(markdown);
            return 0;
        });
        return cmd;
    }

    /// <summary>The generator folder recorded in the config.json next to a samples file.</summary>
    static string GeneratorOfSamples(string samplesPath)
    {
        var config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(samplesPath))!, "config.json");
        var dir = File.Exists(config) ? JsonNode.Parse(File.ReadAllText(config))?["generator"]?.GetValue<string>() : null;
        if (dir == null || !Directory.Exists(dir))
            throw new UserError($"{samplesPath} has no prm sample config.json naming an existing generator next to it; pass --generator DIR.");
        return dir;
    }

    static string KindName(VerifierKind kind) => kind == VerifierKind.Process ? "prm" : "orm";

    /// <summary>Trains a verifier from the generator's weights, saves it in <c>run/verifier/</c>; returns its folder and a report section.</summary>
    static (string VerifierDir, string Markdown) TrainVerifierIn(RunFolder run, VerifierKind kind, string samplesPath, IReadOnlyList<ProblemSamples> problems,
        string generatorDir, VerifierTrainingOptions options, TextWriter stdout, int valProblems = 0)
    {
        var name = KindName(kind);
        run.WriteConfig(new
        {
            verb = "prm train-verifier", kind = name, samples = Path.GetFullPath(samplesPath), generator = generatorDir, steps = options.Steps, batch_size = options.BatchSize,
            lr = options.LearningRate, seed = options.Seed, positive_weight = options.PositiveWeight, val_problems = valProblems, eval_every = options.EvalEvery,
            lm_loss = options.LmLossWeight, surprisal = options.Surprisal,
        });
        // The last valProblems train problems are held back; relabelled "test" so VerifierEvaluation scores them.
        var trainProblems = problems.Where(p => p.Split == "train").ToArray();
        if (valProblems >= trainProblems.Length && valProblems > 0) throw new UserError($"--val-problems {valProblems} leaves none of the {trainProblems.Length} train problems of {samplesPath} to train on.");
        var validation = trainProblems.Skip(trainProblems.Length - valProblems).Select(p => p with { Split = "test" }).ToArray();
        var curveProblems = valProblems > 0 ? validation : problems.Where(p => p.Split == "test").Take(10).ToArray();
        var curveName = valProblems > 0 ? $"val_auc ({valProblems} held-back train problems)" : "heldout_auc (10 test problems)";
        var examples = BestOfNPipeline.Examples(kind, trainProblems.Take(trainProblems.Length - valProblems));
        if (examples.Count == 0) throw new UserError($"{samplesPath} has no train problems to train the verifier on.");
        var targets = examples.Sum(e => e.Mask.Count(m => m));
        var positives = examples.Sum(e => e.Mask.Where((m, i) => m && e.Targets[i] > 0.5f).Count());
        using var verifier = new StepVerifier(kind, CausalLanguageModel.Load(generatorDir), options.Seed, options.Surprisal);
        var losses = new List<double>();
        var curve = new List<(int Step, double Auc)>();
        void Measure(int step)
        {
            var e = VerifierEvaluation.Of(verifier, curveProblems);
            curve.Add((step, e.RocAuc));
            run.AppendMetrics(new { step, curve_auc = double.IsFinite(e.RocAuc) ? e.RocAuc : (double?)null, curve_targets = e.Targets, curve_positives = e.Positives });
        }
        using (var progress = new ProgressBar($"prm train-verifier {name}", options.Steps))
        {
            verifier.Train(examples, options, (step, loss, lr) =>
            {
                losses.Add(loss);
                if (step % 10 == 0 || step == options.Steps - 1) run.AppendMetrics(new { step, loss, lr });
                progress.Report(step + 1, $"loss {loss:F3}");
            }, Measure);
        }
        if (options.EvalEvery > 0) Measure(options.Steps);
        var dir = run.File("verifier");
        verifier.Save(dir);
        // Held-out separation on a slice of the test problems (the full set is scored again by best-of-n).
        var eval = VerifierEvaluation.Of(verifier, problems, maxProblems: 10);
        // NaN (one class only) is written as null: JSON has no NaN.
        static double? Finite(double x) => double.IsFinite(x) ? x : null;
        run.AppendMetrics(new { heldout_targets = eval.Targets, heldout_positives = eval.Positives, heldout_auc = Finite(eval.RocAuc), heldout_accuracy = Finite(eval.Accuracy) });
        var finalLoss = losses.Skip(Math.Max(0, losses.Count - 20)).Average();
        var unit = kind == VerifierKind.Process ? "steps" : "solutions";
        var curveText = curve.Count == 0 ? "" : $"ROC-AUC curve, {curveName}: " + string.Join(", ", curve.Select(c => $"{c.Step}: {F3(c.Auc)}"));
        stdout.WriteLine($"{name}: {dir}");
        if (curveText.Length > 0) stdout.WriteLine(curveText);
        stdout.WriteLine($"trained on {examples.Count} solutions ({targets} labelled {unit}, {positives} correct); final loss {finalLoss:F3}; " +
                         $"held-out ROC-AUC {F3(eval.RocAuc)}, accuracy {F3(eval.Accuracy)} on {eval.Targets} {unit}");
        var md = $"## {name.ToUpperInvariant()}\n\nStarts from the generator; head on {(kind == VerifierKind.Process ? "each step's newline, BCE on step labels up to the first error" : "the final token, BCE on the outcome")}" +
                 $"{(options.Surprisal ? $", also reading the lowest and mean log-probability of the {(kind == VerifierKind.Process ? "step's" : "solution's")} bytes" : "")}" +
                 $"{(options.LmLossWeight > 0 ? $"; language-model loss ×{options.LmLossWeight.ToString(CultureInfo.InvariantCulture)} kept on the bytes its labels call correct" : "")}. " +
                 $"{options.Steps} updates of {options.BatchSize} solutions from {examples.Count} training samples ({targets} labelled {unit}, {positives} correct). " +
                 $"Final loss {finalLoss:F3}. Held-out ({eval.Targets} {unit} of up to 10 test problems): ROC-AUC {F3(eval.RocAuc)}, accuracy {F3(eval.Accuracy)}.\n" +
                 (curveText.Length > 0 ? $"\n{curveText}.\n" : "");
        return (dir, md);
    }

    // ---------------------------------------------------------------- best-of-n

    static Command BestOfNVerb()
    {
        var samples = new Option<string>("--samples") { Description = "samples.jsonl from prm sample (its test problems are evaluated).", Required = true };
        var prm = new Option<string>("--prm") { Description = "The PRM: a train-verifier run folder or a verifier folder.", Required = true };
        var orm = new Option<string>("--orm") { Description = "The ORM: a train-verifier run folder or a verifier folder.", Required = true };
        var resamples = IntOption("--resamples", 200, "Random subsets per N for the curve's mean and 95% interval.");
        var seed = IntOption("--seed", 0, "Seed of the subsets.");
        var likelihood = new Option<bool>("--likelihood-baseline") { Description = "Also report the ROC-AUC of the generator's own mean log-probability of each step (an untrained verifier; the generator named in the samples' config.json)." };
        var output = OutOption("prm-best-of-n");
        var threads = ThreadsOption();
        var cmd = new Command("best-of-n", "Score held-out samples with the PRM and ORM and plot % solved vs N for every selection method.")
            { samples, prm, orm, resamples, seed, likelihood, output, threads };
        cmd.SetAction(parse =>
        {
            ApplyThreads(parse, threads);
            RequirePositive(parse.GetValue(resamples), "--resamples");
            var samplesPath = parse.GetValue(samples)!;
            if (!File.Exists(samplesPath)) throw new FileNotFoundException($"{samplesPath} does not exist.", samplesPath);
            var prmDir = ResolveFolder(parse.GetValue(prm)!, "verifier", StepVerifier.InfoFileName, "--prm");
            var ormDir = ResolveFolder(parse.GetValue(orm)!, "verifier", StepVerifier.InfoFileName, "--orm");
            var run = RunFolder.Create("prm-best-of-n", parse.GetValue(output));
            var generatorDir = parse.GetValue(likelihood) ? GeneratorOfSamples(samplesPath) : null;
            var result = BestOfNIn(run, samplesPath, ProblemSamples.ReadFile(samplesPath), prmDir, ormDir, parse.GetValue(resamples), parse.GetValue(seed), parse.InvocationConfiguration.Output, generatorDir);
            run.WriteReport("# prm best-of-n\n\n" + result.Markdown);
            return 0;
        });
        return cmd;
    }

    /// <summary>What best-of-N found: the curves, a one-line headline and a report section.</summary>
    internal sealed record BestOfNResult(IReadOnlyList<SelectionCurve> Curves, string Headline, string Markdown);

    /// <summary>Scores, resamples, writes results.json and best_of_n.png in <paramref name="run"/>.</summary>
    static BestOfNResult BestOfNIn(RunFolder run, string samplesPath, IReadOnlyList<ProblemSamples> problems, string prmDir, string ormDir, int resamples, int seed, TextWriter stdout, string? likelihoodGenerator = null)
    {
        run.WriteConfig(new { verb = "prm best-of-n", samples = Path.GetFullPath(samplesPath), prm = prmDir, orm = ormDir, resamples, seed, likelihood_generator = likelihoodGenerator });
        var test = problems.Where(p => p.Split == "test").ToArray();
        if (test.Length == 0) throw new UserError($"{samplesPath} has no test problems to evaluate.");
        IReadOnlyList<IReadOnlyList<SampledSolution>> scored;
        using (var prm = StepVerifier.Load(prmDir))
        using (var orm = StepVerifier.Load(ormDir))
        using (var progress = new ProgressBar("prm best-of-n: scoring", test.Length))
        {
            if (prm.Kind != VerifierKind.Process) throw new UserError($"--prm '{prmDir}' is an outcome verifier.");
            if (orm.Kind != VerifierKind.Outcome) throw new UserError($"--orm '{ormDir}' is a process verifier.");
            scored = BestOfNPipeline.Score(test, prm, orm, i => progress.Report(i));
        }
        BestOfNPipeline.WriteScores(run.File("scores.jsonl"), scored);
        var methods = SelectionMethods.Standard().Append((SelectionMethods.Oracle, SelectionMethods.OracleSelector)).ToArray();
        var curves = SubsetResampling.Curves(scored, methods, new SubsetResamplingOptions { Resamples = resamples, Seed = seed });
        var json = SubsetResampling.ToResultsJson(curves);
        json["problems"] = test.Length;
        json["n_max"] = scored.Min(s => s.Count);
        var (stepAuc, prmSolutionAuc, ormSolutionAuc) = BestOfNPipeline.HeldOutRocAuc(test, scored);
        static JsonNode? Auc(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;
        json["prm_step_auc"] = Auc(stepAuc);
        json["prm_solution_auc"] = Auc(prmSolutionAuc);
        json["orm_solution_auc"] = Auc(ormSolutionAuc);

        var ns = curves[0].N;
        var plot = new LinePlot
        {
            Title = $"Best-of-N on {test.Length} held-out arithmetic problems", XLabel = "N = solutions per problem (log2)", YLabel = "% problems solved",
            XScale = AxisScale.Log2, Legend = LegendPosition.BottomRight,
        };
        foreach (var c in curves.Where(c => c.Method != SelectionMethods.Oracle))
            plot.Add(c.Method, c.N.Select(x => (double)x).ToArray(), c.PercentSolved, c.Lower, c.Upper);
        plot.SavePng(run.File("best_of_n.png"));

        var table = new TextTable(["method", .. ns.Select(x => $"N={x}"), "95% interval at N/4"]);
        var quarter = Math.Max(0, ns.Count - 3);
        foreach (var c in curves)
            table.Add([c.Method, .. c.PercentSolved.Select(F1), $"{F1(c.Lower[quarter])}..{F1(c.Upper[quarter])} (N={ns[quarter]})"]);
        foreach (var c in curves)
            run.AppendMetrics(new JsonObject { ["method"] = c.Method, ["n"] = new JsonArray(c.N.Select(x => (JsonNode)x).ToArray()), ["percent_solved"] = new JsonArray(c.PercentSolved.Select(x => (JsonNode)x).ToArray()) });
        // The paper's ordering, pair by pair, with intervals over problems (the curves' own intervals hold the problems fixed).
        (string, string)[] pairs = [(SelectionMethods.PrmProduct, SelectionMethods.Orm), (SelectionMethods.Orm, SelectionMethods.Majority),
            (SelectionMethods.PrmProduct, SelectionMethods.Majority), (SelectionMethods.PrmWeighted, SelectionMethods.Majority)];
        var pairTable = new TextTable(["difference (points)", .. ns.Select(x => $"N={x}")]);
        var pairJson = new JsonObject();
        foreach (var (a, b) in pairs)
        {
            var diffs = Enumerable.Range(0, ns.Count)
                .Select(j => SubsetResampling.PairedDifference(curves.First(c => c.Method == a), curves.First(c => c.Method == b), j, seed: seed)).ToArray();
            pairTable.Add([$"{a} - {b}", .. diffs.Select(d => $"{d.Difference:+0.0;-0.0;0.0} ({d.Lower:0.0}..{d.Upper:0.0})")]);
            pairJson[$"{a}-{b}"] = new JsonObject
            {
                ["difference"] = new JsonArray(diffs.Select(d => (JsonNode)Math.Round(d.Difference, 3)).ToArray()),
                ["lower"] = new JsonArray(diffs.Select(d => (JsonNode)Math.Round(d.Lower, 3)).ToArray()),
                ["upper"] = new JsonArray(diffs.Select(d => (JsonNode)Math.Round(d.Upper, 3)).ToArray()),
            };
        }
        json["paired_differences"] = pairJson;
        double At(string method) => curves.First(c => c.Method == method).PercentSolved[^1];
        var nMax = ns[^1];
        var headline = $"best-of-{nMax} on {test.Length} held-out problems: PRM {F1(At(SelectionMethods.PrmProduct))}%, ORM {F1(At(SelectionMethods.Orm))}%, " +
                       $"majority {F1(At(SelectionMethods.Majority))}% (one sample {F1(curves[0].PercentSolved[0])}%, any of {nMax} right {F1(At(SelectionMethods.Oracle))}%)";
        var order = At(SelectionMethods.PrmProduct) > At(SelectionMethods.Orm) && At(SelectionMethods.Orm) > At(SelectionMethods.Majority)
            ? "PRM > ORM > majority holds at N_max."
            : $"PRM > ORM > majority does not hold at N_max here (prm_prod {F1(At(SelectionMethods.PrmProduct))}, orm {F1(At(SelectionMethods.Orm))}, majority {F1(At(SelectionMethods.Majority))}).";
        var aucLine = $"held-out ROC-AUC on all {test.Length} test problems' samples: PRM per step {F3(stepAuc)}, per solution (product) {F3(prmSolutionAuc)}; ORM per solution {F3(ormSolutionAuc)}";
        if (likelihoodGenerator is not null)
        {
            // The generator's mean log-probability per step, exponentiated into (0, 1] so the PRM's product rule applies.
            using var generator = CausalLanguageModel.Load(likelihoodGenerator);
            generator.eval();
            var byLikelihood = new List<IReadOnlyList<SampledSolution>>();
            using (var progress = new ProgressBar("prm best-of-n: generator likelihood", test.Length))
                foreach (var p in test)
                {
                    var logp = SolutionGenerator.StepLogProbabilities(generator, p.Prompt, p.Samples, p.CheckReference);
                    byLikelihood.Add(p.Samples.Select((t, i) => SampledSolution.FromCheck(p.Id, t, p.CheckReference, logp[i].Select(Math.Exp).ToArray(), 0)).ToArray());
                    progress.Report(byLikelihood.Count);
                }
            var (likelihoodStepAuc, likelihoodSolutionAuc, _) = BestOfNPipeline.HeldOutRocAuc(test, byLikelihood);
            json["likelihood_step_auc"] = Auc(likelihoodStepAuc);
            json["likelihood_solution_auc"] = Auc(likelihoodSolutionAuc);
            aucLine += $"; the generator's own step likelihood (untrained) per step {F3(likelihoodStepAuc)}, per solution (product) {F3(likelihoodSolutionAuc)}";
            // Best-of-N by that likelihood (product over steps), beside the trained verifiers; not in the plot.
            var productRule = SelectionMethods.Standard().First(m => m.Name == SelectionMethods.PrmProduct).Selector;
            var c = SubsetResampling.Curves(byLikelihood, [("likelihood_prod", productRule)], new SubsetResamplingOptions { Resamples = resamples, Seed = seed })[0];
            json["likelihood_prod"] = new JsonArray(c.PercentSolved.Select(x => (JsonNode)x).ToArray());
            table.Add([c.Method, .. c.PercentSolved.Select(F1), $"{F1(c.Lower[quarter])}..{F1(c.Upper[quarter])} (N={ns[quarter]})"]);
        }
        run.WriteJson("results.json", json);
        stdout.WriteLine(headline);
        stdout.WriteLine(aucLine);
        stdout.Write(table.ToText());
        stdout.WriteLine($"paired differences, 95% bootstrap interval over the {test.Length} problems:");
        stdout.Write(pairTable.ToText());
        stdout.WriteLine(order);
        var md = $"## Best-of-N\n\n{headline}. {order}\n\nThe verifiers' {aucLine}.\n\n% of held-out problems whose selected solution is right, mean over {resamples} random N-subsets of the {nMax} samples " +
                 $"(the paper's Figure 3 estimator; `oracle` = some sample is right). Paper (MATH, GPT-4 scale, N=1860): PRM 78.2%, ORM 72.4%, majority 69.6%.\n\n" +
                 $"{table.ToMarkdown()}\nDifferences between methods in percentage points, with a 95% bootstrap interval over the {test.Length} problems " +
                 $"(2,000 resamples of problems, each method keeping its result on each problem; an interval that excludes 0 means the ordering would likely survive another draw of problems):\n\n" +
                 $"{pairTable.ToMarkdown()}\n![best-of-N](best_of_n.png)\n";
        return new BestOfNResult(curves, headline, md);
    }

    // ---------------------------------------------------------------- run: the whole pipeline

    static Command RunAll()
    {
        var output = OutOption("prm-run");
        var n = IntOption("--n", PipelineScale.Default.Sampling.TestSamples, "Samples per held-out problem (N_max).");
        var testProblems = IntOption("--test-problems", PipelineScale.Default.Sampling.TestProblems, "Held-out problems.");
        var generatorSteps = IntOption("--generator-steps", PipelineScale.Default.Generator.Steps, "Generator updates.");
        var verifierSteps = IntOption("--verifier-steps", PipelineScale.Default.Verifier.Steps, "Updates per verifier.");
        var trainProblems = IntOption("--train-problems", PipelineScale.Default.Sampling.TrainProblems, "Problems whose samples train the verifiers.");
        var width = IntOption("--width", PipelineScale.Default.Generator.Width, "Generator (and verifier) width.");
        var batch = IntOption("--batch-size", PipelineScale.Default.Generator.BatchSize, "Problems per generator update (and solutions per verifier update).");
        var problemOptions = new ProblemOptionSet(PipelineScale.Default.Generator.Problems, "");
        var arch = ArchOption();
        var drill = DrillOption(PipelineScale.Default.Generator.DrillShare);
        var lmLoss = LmLossOption(PipelineScale.Default.Verifier.LmLossWeight);
        var surprisal = SurprisalOption(PipelineScale.Default.Verifier.Surprisal);
        var demo = new Option<bool>("--demo") { Description = "Use the ~2-minute demo scale (tiny model, N up to 16) instead of the defaults." };
        var threads = ThreadsOption();
        var cmd = new Command("run", "The whole pipeline at small scale: train generator, sample, train PRM and ORM, best-of-N curve.")
            { n, testProblems, trainProblems, generatorSteps, verifierSteps, width, batch, arch, drill, lmLoss, surprisal, demo, output, threads };
        foreach (var o in problemOptions.All) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            ApplyThreads(parse, threads);
            var scale = parse.GetValue(demo) ? PipelineScale.Demo : PipelineScale.Default;
            if (!parse.GetValue(demo))
            {
                foreach (var (o, name) in new[] { (n, "--n"), (testProblems, "--test-problems"), (trainProblems, "--train-problems"), (generatorSteps, "--generator-steps"),
                             (verifierSteps, "--verifier-steps"), (width, "--width"), (batch, "--batch-size") })
                    RequirePositive(parse.GetValue(o), name);
                if (parse.GetValue(width) % scale.Generator.Heads != 0) throw new UserError($"--width must be divisible by {scale.Generator.Heads} (the heads).");
                CheckShare(parse.GetValue(drill), "--drill-share");
                CheckLmLoss(parse.GetValue(lmLoss));
                scale = scale with
                {
                    Generator = scale.Generator with
                    {
                        Steps = parse.GetValue(generatorSteps), Width = parse.GetValue(width), BatchSize = parse.GetValue(batch), DrillShare = parse.GetValue(drill),
                        Problems = problemOptions.Resolve(parse, scale.Generator.Problems), Architecture = ParseArch(parse.GetValue(arch)!),
                    },
                    Sampling = scale.Sampling with { TestSamples = parse.GetValue(n), TestProblems = parse.GetValue(testProblems), TrainProblems = parse.GetValue(trainProblems) },
                    Verifier = scale.Verifier with { Steps = parse.GetValue(verifierSteps), BatchSize = parse.GetValue(batch), LmLossWeight = parse.GetValue(lmLoss), Surprisal = parse.GetValue(surprisal) },
                };
            }
            var run = RunFolder.Create("prm-run", parse.GetValue(output));
            RunPipeline(run, scale, parse.InvocationConfiguration.Output);
            return 0;
        });
        return cmd;
    }

    /// <summary>Runs every stage in sub-folders of <paramref name="run"/> and writes its report.md and results.json.</summary>
    static BestOfNResult RunPipeline(RunFolder run, PipelineScale scale, TextWriter stdout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        run.WriteConfig(new { verb = "prm run", generator_steps = scale.Generator.Steps, width = scale.Generator.Width, drill_share = scale.Generator.DrillShare, lm_loss = scale.Verifier.LmLossWeight, surprisal = scale.Verifier.Surprisal, n = scale.Sampling.TestSamples, test_problems = scale.Sampling.TestProblems, train_problems = scale.Sampling.TrainProblems, verifier_steps = scale.Verifier.Steps });
        var generatorRun = RunFolder.Create("g", Path.Combine(run.Path, "1-generator"));
        var (generatorDir, genMd) = TrainGeneratorIn(generatorRun, scale.Generator, stdout);
        generatorRun.WriteReport("# prm train-generator\n\n" + genMd);
        var sampleRun = RunFolder.Create("s", Path.Combine(run.Path, "2-samples"));
        var (samplesPath, sampleMd) = SampleIn(sampleRun, generatorDir, scale.Sampling with { Problems = scale.Generator.Problems }, stdout);
        sampleRun.WriteReport("# prm sample\n\n" + sampleMd);
        var problems = ProblemSamples.ReadFile(samplesPath);
        var dirs = new Dictionary<VerifierKind, string>();
        var verifierMd = new StringBuilder();
        foreach (var (kind, folder) in new[] { (VerifierKind.Process, "3-prm"), (VerifierKind.Outcome, "4-orm") })
        {
            var vRun = RunFolder.Create("v", Path.Combine(run.Path, folder));
            var (dir, md) = TrainVerifierIn(vRun, kind, samplesPath, problems, generatorDir, scale.Verifier, stdout);
            vRun.WriteReport("# prm train-verifier\n\n" + md);
            dirs[kind] = dir;
            verifierMd.Append(md).Append('\n');
        }
        var result = BestOfNIn(run, samplesPath, problems, dirs[VerifierKind.Process], dirs[VerifierKind.Outcome], scale.Resamples, 0, stdout);
        var minutes = clock.Elapsed.TotalMinutes;
        run.WriteReport($"# prm run\n\nThe whole process-supervision pipeline on the built-in arithmetic task, in {minutes:F1} minutes.\n\n" +
                        $"{result.Markdown}\n{genMd}\n{sampleMd}\n{verifierMd}");
        stdout.WriteLine($"run folder: {run.Path} ({minutes:F1} min)");
        return result;
    }

    /// <summary>
    /// The <c>farabi demo</c> stage (~2 minutes on 2 cores): the whole pipeline at <see cref="PipelineScale.Demo"/>
    /// scale in <paramref name="directory"/>. Returns a one-line headline and a markdown section (with the curve
    /// image linked relative to <paramref name="directory"/>'s parent).
    /// </summary>
    public static (string Headline, string Markdown) DemoStage(string directory, TextWriter log)
    {
        var run = RunFolder.Create("prm-demo", directory);
        var result = RunPipeline(run, PipelineScale.Demo, log);
        var folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(run.Path));
        return (result.Headline, result.Markdown.Replace("](best_of_n.png)", $"]({folder}/best_of_n.png)"));
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Farabi.Cli.Plots;
using Farabi.Lora;
using Farabi.Research.FineTuning;
using Farabi.Tokenizers;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi finetune compare</c> (full, head only, LoRA r = 1/4/16, DoRA on one pretrained model and one task) and
/// <c>farabi finetune generated</c> (a small model fine-tuned on a larger model's self-labelled generations vs on
/// real labels). With no arguments both pretrain on built-in stories and classify the built-in synthetic sentiment
/// task; <c>--pretrain-text</c>, <c>--train</c> and <c>--eval</c> switch to real data (IMDB text, SST-2).
/// </summary>
static class FinetuneCommands
{
    public static Command Create() => new("finetune", "The fine-tuning family: full, last layer only, LoRA, DoRA, and fine-tuning on generated data.")
    {
        CompareCommand(), GeneratedCommand(),
    };

    /// <summary>Options both verbs share: the pretraining text, the task, the base model's shape.</summary>
    sealed class Common
    {
        public readonly Option<string?> PretrainText = new("--pretrain-text") { Description = "Pretraining text: JSON lines (.jsonl, .jsonl.gz) or a plain text file (documents split at blank lines). Default: built-in stories." };
        public readonly Option<string> PretrainField = new("--pretrain-field") { Description = "The JSON field holding the text.", DefaultValueFactory = _ => "text" };
        public readonly Option<long> PretrainChars = new("--pretrain-chars") { Description = "Read at most about this many characters of pretraining text (built-in stories: at most 300,000).", DefaultValueFactory = _ => 3_000_000 };
        public readonly Option<string?> Train = new("--train") { Description = "Training TSV 'text<TAB>label' (header allowed, e.g. SST-2 train.tsv). Default: built-in synthetic sentiment." };
        public readonly Option<string?> Eval = new("--eval") { Description = "Evaluation TSV (e.g. SST-2 dev.tsv). Default: 10% held out of --train." };
        public readonly Option<int?> TrainCount = new("--train-count") { Description = "Training examples used (a seeded sample). Default 8000 real, 2000 synthetic." };
        public readonly Option<int?> EvalCount = new("--eval-count") { Description = "Evaluation examples used (a seeded sample). Default: all of --eval; 500 synthetic." };
        public readonly Option<int?> Vocab = new("--vocab") { Description = "BPE vocabulary size. Default 4096 with --pretrain-text, else 1024." };
        public readonly Option<int?> Width = new("--width") { Description = "Model width (n_embd). Default 128 with --pretrain-text, else 96." };
        public readonly Option<int?> Layers = new("--layers") { Description = "Transformer blocks. Default 4 with --pretrain-text, else 3." };
        public readonly Option<int> Heads = new("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 4 };
        public readonly Option<int> Context = new("--context") { Description = "Context length (longer texts are cut).", DefaultValueFactory = _ => 64 };
        public readonly Option<int?> PretrainSteps = new("--pretrain-steps") { Description = "Pretraining steps. Default 1200 with --pretrain-text, else 500." };
        public readonly Option<int> Batch = new("--batch") { Description = "Examples per fine-tuning step.", DefaultValueFactory = _ => 32 };
        public readonly Option<int> Seed = new("--seed") { Description = "Fixes data, initialisation, order and sampling.", DefaultValueFactory = _ => 1337 };
        public readonly Option<string?> Out = new("--out") { Description = "Run folder (default runs/finetune-<verb>-<time>/)." };
        public readonly Option<int?> Threads = new("--threads") { Description = "libtorch intra-op threads (default: libtorch's choice; 1 is fastest for these small models on a busy machine)." };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { PretrainText, PretrainField, PretrainChars, Train, Eval, TrainCount, EvalCount, Vocab, Width, Layers, Heads, Context, PretrainSteps, Batch, Seed, Out, Threads })
                c.Options.Add(o);
        }

        /// <summary>Applies <c>--threads</c>.</summary>
        public void SetThreads(ParseResult p)
        {
            if (p.GetValue(Threads) is not int n) return;
            if (n < 1) throw new UserError($"--threads must be at least 1, got {n}.");
            Farabi.Training.TorchThreads.Set(n);
        }

        public bool Real(ParseResult p) => p.GetValue(PretrainText) != null;

        public PretrainSpec Spec(ParseResult p)
        {
            var real = Real(p);
            var spec = new PretrainSpec(p.GetValue(Vocab) ?? (real ? 4096 : 1024), p.GetValue(Width) ?? (real ? 128 : 96), p.GetValue(Layers) ?? (real ? 4 : 3),
                p.GetValue(Heads), p.GetValue(Context), p.GetValue(PretrainSteps) ?? (real ? 1200 : 500), 16, 2e-3, p.GetValue(Seed));
            if (spec.VocabSize < 300) throw new UserError("--vocab must be at least 300 (256 bytes, the end-of-text token and some merges).");
            if (spec.Width < 8 || spec.Width % spec.Heads != 0) throw new UserError($"--width {spec.Width} must be at least 8 and divisible by --heads {spec.Heads}.");
            if (spec.Layers < 1 || spec.Context < 8 || spec.Steps < 1) throw new UserError("--layers and --pretrain-steps must be at least 1 and --context at least 8.");
            return spec;
        }

        public List<string> PretrainingTexts(ParseResult p)
        {
            var path = p.GetValue(PretrainText);
            var max = p.GetValue(PretrainChars);
            if (path == null) return PretrainSpec.BuiltInStories((int)Math.Min(300_000, max), p.GetValue(Seed));
            if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json.gz", StringComparison.OrdinalIgnoreCase))
                return ClassificationData.ReadJsonLinesText(path, p.GetValue(PretrainField)!, max);
            if (!File.Exists(path)) throw new FileNotFoundException($"Text file '{path}' does not exist.", path);
            var text = File.ReadAllText(path);
            if (text.Length > max) text = text[..(int)Math.Min(max, int.MaxValue)];
            return text.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }

        public (List<TextExample> Train, List<TextExample> Eval, string Name) Task(ParseResult p)
        {
            var seed = p.GetValue(Seed);
            var trainPath = p.GetValue(Train);
            if (trainPath == null)
            {
                if (p.GetValue(Eval) != null) throw new UserError("--eval needs --train.");
                return (ClassificationData.Synthetic(p.GetValue(TrainCount) ?? 2000, seed), ClassificationData.Synthetic(p.GetValue(EvalCount) ?? 500, seed + 7919), "built-in synthetic sentiment");
            }
            var all = ClassificationData.ReadTsv(trainPath);
            List<TextExample> train, eval;
            if (p.GetValue(Eval) is { } evalPath)
            {
                train = all;
                eval = ClassificationData.ReadTsv(evalPath);
            }
            else
            {
                var shuffled = ClassificationData.Sample(all, all.Count, seed);
                var held = Math.Max(1, all.Count / 10);
                eval = shuffled.Take(held).ToList();
                train = shuffled.Skip(held).ToList();
            }
            train = ClassificationData.Sample(train, p.GetValue(TrainCount) ?? 8000, seed);
            if (p.GetValue(EvalCount) is { } ec) eval = ClassificationData.Sample(eval, ec, seed + 1);
            if (train.Select(e => e.Label).Distinct().Count() < 2) throw new UserError($"The training data in '{trainPath}' has a single label; classification needs two or more.");
            return (train, eval, Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(trainPath))) + "/" + Path.GetFileName(trainPath));
        }
    }

    static PretrainedBase BuildBase(PretrainSpec spec, IReadOnlyList<string> texts, string tokenizerDir, Farabi.Tokenizers.Bpe.BpeTokenizer? tokenizer = null, string label = "pretrain")
    {
        ProgressBar? bar = null;
        try
        {
            void Stage(string s) => Console.Error.WriteLine(s);
            void Step(FineTuneStep st)
            {
                bar ??= new ProgressBar(label, spec.Steps);
                bar.Report(st.Step, $"loss {st.Loss:F3}");
            }
            var result = tokenizer == null ? spec.Build(texts, tokenizerDir, Stage, Step) : spec.Pretrain(tokenizer, texts, Stage, Step);
            bar?.Dispose();
            bar = null;
            Console.Error.WriteLine($"{label}: {result.Model.ParameterCount():N0} parameters, held-out loss {result.HeldOutLoss.Before:F3} -> {result.HeldOutLoss.After:F3}");
            return result;
        }
        finally
        {
            bar?.Dispose();
        }
    }

    static Command CompareCommand()
    {
        var common = new Common();
        var steps = new Option<int>("--steps") { Description = "Fine-tuning steps per method (same for all; 5% warm-up, then linear decay).", DefaultValueFactory = _ => 300 };
        var lrFull = new Option<double>("--lr-full") { Description = "Peak learning rate of full fine-tuning.", DefaultValueFactory = _ => FineTuningMethod.DefaultFullLearningRate };
        var lrLora = new Option<double>("--lr-lora") { Description = "Peak learning rate of LoRA and DoRA (about 10x full: the adapters start at zero and move r directions).", DefaultValueFactory = _ => FineTuningMethod.DefaultLoraLearningRate };
        var lrHead = new Option<double>("--lr-head") { Description = "Peak learning rate of head-only training.", DefaultValueFactory = _ => FineTuningMethod.DefaultHeadLearningRate };
        var alpha = new Option<double>("--lora-alpha") { Description = "LoRA alpha, the same at every rank (update scaled by alpha / r).", DefaultValueFactory = _ => FineTuningMethod.DefaultLoraAlpha };
        var methods = new Option<string[]>("--methods") { Description = "Methods to run (head, full, lora_rN, dora_rN, and the control linear: LoRA's weight matrices trained in full; -emb leaves the token embedding frozen, e.g. lora_r4-emb; NAME@LR sets that run's rate, e.g. lora_r4@2e-3).", DefaultValueFactory = _ => ["head", "lora_r1", "lora_r4", "lora_r16", "dora_r4", "full"], AllowMultipleArgumentsPerToken = true };
        var baseRun = new Option<string?>("--base") { Description = "Reuse the tokenizer and pretrained model of an earlier compare run folder (its tokenizer/ and base/) instead of pretraining." };
        var command = new Command("compare", "Full fine-tuning vs last layer only vs LoRA r=1/4/16 vs DoRA on one pretrained model and one task: parameters, memory, step time, accuracy.")
        {
            steps, lrFull, lrLora, lrHead, alpha, methods, baseRun,
        };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var seed = parse.GetValue(common.Seed);
            List<FineTuningMethod> family;
            try { family = parse.GetValue(methods)!.Select(m => FineTuningMethod.Parse(m, parse.GetValue(lrFull), parse.GetValue(lrLora), parse.GetValue(lrHead), parse.GetValue(alpha))).ToList(); }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            if (!(parse.GetValue(alpha) > 0)) throw new UserError("--lora-alpha must be positive.");
            common.SetThreads(parse);
            if (parse.GetValue(steps) < 1 || parse.GetValue(common.Batch) < 1) throw new UserError("--steps and --batch must be at least 1.");
            var spec = common.Spec(parse);
            var (train, eval, taskName) = common.Task(parse);
            var reuse = parse.GetValue(baseRun);
            if (reuse != null && !Directory.Exists(Path.Combine(reuse, "base")))
                throw new UserError($"--base '{reuse}' is not a finetune compare run folder: it has no base/ folder.");
            var texts = reuse == null ? common.PretrainingTexts(parse) : [];
            var run = RunFolder.Create("finetune compare", parse.GetValue(common.Out));
            using var pretrained = reuse == null ? BuildBase(spec, texts, run.File("tokenizer"))
                : PretrainedBase.Load(Path.Combine(reuse, "base"), Path.Combine(reuse, "tokenizer"));
            var shape = pretrained.Model.Gpt2Config;
            run.WriteConfig(new JsonObject
            {
                ["pretrain_text"] = parse.GetValue(common.PretrainText) ?? "built-in stories", ["pretrain_field"] = parse.GetValue(common.PretrainField),
                ["pretrain_chars"] = texts.Sum(t => (long)t.Length), ["base"] = reuse, ["train"] = parse.GetValue(common.Train), ["eval"] = parse.GetValue(common.Eval),
                ["train_count"] = train.Count, ["eval_count"] = eval.Count, ["vocab"] = shape.VocabSize, ["width"] = shape.NEmbd, ["layers"] = shape.NLayer,
                ["heads"] = shape.NHead, ["context"] = shape.NPositions, ["pretrain_steps"] = reuse == null ? spec.Steps : null, ["steps"] = parse.GetValue(steps),
                ["schedule"] = "5% linear warm-up, then linear decay", ["batch"] = parse.GetValue(common.Batch),
                ["methods"] = new JsonArray(family.Select(m => (JsonNode)new JsonObject { ["method"] = m.Name, ["lr"] = m.LearningRate, ["lora_alpha"] = m.Rank > 0 ? m.LoraAlpha : null }).ToArray()),
                ["lora_targets"] = "every linear layer of the body + wte (LoRA); every linear layer (DoRA); '-emb' methods: linear layers only", ["modules_to_save"] = "score", ["lora_dropout"] = 0, ["seed"] = seed, ["threads"] = Farabi.Training.TorchThreads.Count,
            });
            if (reuse == null) pretrained.Save(run.File("base"));
            else Console.Error.WriteLine($"base: {pretrained.Model.ParameterCount():N0} parameters from {reuse}");
            Console.Error.WriteLine($"task: {taskName}, {train.Count} training / {eval.Count} evaluation examples");

            var results = new List<FineTuningResult>();
            foreach (var method in family)
            {
                using var bar = new ProgressBar(method.Name, parse.GetValue(steps));
                var r = FineTuningComparison.Run(pretrained, train, eval, [method], parse.GetValue(steps), parse.GetValue(common.Batch), seed,
                    (_, st) => bar.Report(st.Step, $"loss {st.Loss:F3}"))[0];
                results.Add(r);
                run.AppendMetrics(Row(r));
            }
            var rows = new JsonArray(results.Select(r => (JsonNode)Row(r)).ToArray());
            run.WriteJson("results.json", rows);
            var table = Table(results);
            Console.Error.Write(table.ToText());
            var plot = new ScatterPlot
            {
                Title = $"Fine-tuning family on {taskName}", XLabel = "trainable parameters (log scale)", YLabel = "accuracy", XScale = AxisScale.Log10,
            };
            foreach (var r in results) plot.Add(r.TrainableParameters, r.Accuracy, r.Method, KindOf(r.Method));
            plot.SavePng(run.File("accuracy_vs_params.png"));
            var report = new StringBuilder("# finetune compare\n\n")
                .AppendLine($"Pretrained: GPT-2 {shape.NEmbd} wide, {shape.NLayer} blocks, {shape.NHead} heads, context {shape.NPositions}, {pretrained.Model.ParameterCount():N0} parameters, " +
                            $"{shape.VocabSize}-token BPE; " + (reuse == null ? $"{spec.Steps} steps on {parse.GetValue(common.PretrainText) ?? "built-in stories"} " +
                            $"(held-out loss {pretrained.HeldOutLoss.Before:F3} -> {pretrained.HeldOutLoss.After:F3})." : $"reused from {reuse}."))
                .AppendLine($"Task: {taskName}, {train.Count} training examples, accuracy on {eval.Count} evaluation examples" + (parse.GetValue(common.Eval) is { } ev ? $" ({ev})." : "."))
                .AppendLine($"Every method: same weights, data order and seed ({seed}), {parse.GetValue(steps)} AdamW steps of {parse.GetValue(common.Batch)} examples, 5% warm-up then linear decay " +
                            $"from its own peak rate (lr column); LoRA on every linear layer of the body and the token embedding (DoRA and `-emb` methods: the linear layers only), alpha = {parse.GetValue(alpha).ToString(CultureInfo.InvariantCulture)} at every rank (scale alpha / r), no adapter dropout, the zero-initialised head trained in full; `linear` trains LoRA's matrices (and the embedding) in full.")
                .AppendLine()
                .AppendLine("Memory columns: **+MB** is how far resident memory rose above its size at the method's start (gradients, AdamW moments, " +
                            "activations kept for backward, adapters; measured after garbage collection and heap trimming); **grad+opt MB** is exact: " +
                            "3 × 4 bytes per trainable value (gradient and two AdamW moments); **peak MB** (`peak_mb` in results.json) is the whole process's " +
                            "resident peak while the method ran, which includes the runtime, libtorch, the shared pretrained model and the data.")
                .AppendLine()
                .Append(table.ToMarkdown())
                .AppendLine()
                .AppendLine("![accuracy vs trainable parameters](accuracy_vs_params.png)");
            run.WriteReport(report.ToString());
            parse.InvocationConfiguration.Output.WriteLine(rows.ToJsonString());
            Console.Error.WriteLine($"report: {run.File("report.md")}");
            return 0;
        });
        return command;
    }

    /// <summary>The legend group of a method: LoRA, DoRA, or the method's bare name (rates and -emb dropped, so sweeps share a colour).</summary>
    static string KindOf(string method)
    {
        var bare = method.Split('@')[0];
        if (bare.EndsWith("-emb", StringComparison.Ordinal)) bare = bare[..^4];
        return bare.StartsWith("lora", StringComparison.Ordinal) ? "LoRA" : bare.StartsWith("dora", StringComparison.Ordinal) ? "DoRA" : bare;
    }

    /// <summary>The results.json row: the field names scripts depend on, then extras.</summary>
    internal static JsonObject Row(FineTuningResult r) => new()
    {
        ["method"] = r.Method,
        ["trainable_params"] = r.TrainableParameters,
        ["total_params"] = r.TotalParameters,
        ["accuracy"] = Math.Round(r.Accuracy, 4),
        ["step_ms"] = Math.Round(r.StepMs, 2),
        ["peak_mb"] = Math.Round(r.PeakMb, 1),
        ["peak_above_start_mb"] = Math.Round(r.PeakAboveStartMb, 1),
        ["grad_optimizer_mb"] = Math.Round(r.GradientOptimizerMb, 3),
        ["train_state_mb"] = Math.Round(r.TrainingStateMb, 2),
        ["lr"] = r.LearningRate,
        ["final_loss"] = Math.Round(r.FinalLoss, 4),
    };

    static TextTable Table(IEnumerable<FineTuningResult> results)
    {
        var table = new TextTable("method", "trainable", "trainable %", "accuracy", "step ms", "+MB", "grad+opt MB", "peak MB", "lr");
        foreach (var r in results)
            table.Add(r.Method, r.TrainableParameters, (100.0 * r.TrainableParameters / r.TotalParameters).ToString("F2", CultureInfo.InvariantCulture),
                r.Accuracy.ToString("P1", CultureInfo.InvariantCulture), r.StepMs, r.PeakAboveStartMb.ToString("F1", CultureInfo.InvariantCulture),
                r.GradientOptimizerMb.ToString("F2", CultureInfo.InvariantCulture), r.PeakMb.ToString("F0", CultureInfo.InvariantCulture), r.LearningRate.ToString("G3", CultureInfo.InvariantCulture));
        return table;
    }

    static Command GeneratedCommand()
    {
        var common = new Common();
        var largeWidth = new Option<int?>("--large-width") { Description = "Width of the larger (generating, labelling) model. Default 2x --width." };
        var largeLayers = new Option<int?>("--large-layers") { Description = "Blocks of the larger model. Default --layers + 2." };
        var count = new Option<int>("--generated-count") { Description = "Examples the larger model generates.", DefaultValueFactory = _ => 400 };
        var genSteps = new Option<int>("--generator-steps") { Description = "Steps teaching the larger LM to continue a label prefix.", DefaultValueFactory = _ => 300 };
        var labSteps = new Option<int>("--labeller-steps") { Description = "Steps fine-tuning the larger model's classifier.", DefaultValueFactory = _ => 300 };
        var stuSteps = new Option<int>("--student-steps") { Description = "LoRA steps of the small model.", DefaultValueFactory = _ => 300 };
        var rank = new Option<int>("--rank") { Description = "LoRA rank of the small model.", DefaultValueFactory = _ => 4 };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Longest generated text, tokens.", DefaultValueFactory = _ => 32 };
        var command = new Command("generated", "Fine-tune a small model with LoRA on a larger model's self-labelled generations only, vs on as many real labels.")
        {
            largeWidth, largeLayers, count, genSteps, labSteps, stuSteps, rank, maxNew,
        };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var seed = parse.GetValue(common.Seed);
            common.SetThreads(parse);
            var small = common.Spec(parse);
            var large = small with { Width = parse.GetValue(largeWidth) ?? 2 * small.Width, Layers = parse.GetValue(largeLayers) ?? small.Layers + 2 };
            if (large.Width % large.Heads != 0) throw new UserError($"--large-width {large.Width} must be divisible by --heads {large.Heads}.");
            if (parse.GetValue(count) < 2 || parse.GetValue(rank) < 1) throw new UserError("--generated-count must be at least 2 and --rank at least 1.");
            var options = new GeneratedDataOptions(parse.GetValue(genSteps), parse.GetValue(labSteps), parse.GetValue(stuSteps), parse.GetValue(common.Batch),
                parse.GetValue(count), parse.GetValue(maxNew), 1.0, 50, parse.GetValue(rank), seed);
            var (train, eval, taskName) = common.Task(parse);
            var texts = common.PretrainingTexts(parse);
            var run = RunFolder.Create("finetune generated", parse.GetValue(common.Out));
            run.WriteConfig(new JsonObject
            {
                ["pretrain_text"] = parse.GetValue(common.PretrainText) ?? "built-in stories", ["train"] = parse.GetValue(common.Train), ["eval"] = parse.GetValue(common.Eval),
                ["train_count"] = train.Count, ["eval_count"] = eval.Count, ["vocab"] = small.VocabSize, ["small_width"] = small.Width, ["small_layers"] = small.Layers,
                ["large_width"] = large.Width, ["large_layers"] = large.Layers, ["context"] = small.Context, ["pretrain_steps"] = small.Steps,
                ["generated_count"] = options.GeneratedCount, ["generator_steps"] = options.GeneratorSteps, ["labeller_steps"] = options.LabellerSteps,
                ["student_steps"] = options.StudentSteps, ["rank"] = options.StudentRank, ["batch"] = options.BatchSize, ["max_new_tokens"] = options.MaxNewTokens, ["seed"] = seed,
            });
            using var largeBase = BuildBase(large, texts, run.File("tokenizer"), label: "pretrain large");
            using var smallBase = BuildBase(small, texts, run.File("tokenizer"), largeBase.Tokenizer, "pretrain small");
            ProgressBar? bar = null;
            var stepCount = 0;
            var result = GeneratedDataFineTuning.Run(largeBase, smallBase, train, eval, options,
                stage => { bar?.Dispose(); bar = null; stepCount = 0; Console.Error.WriteLine(stage); },
                st => { bar ??= new ProgressBar("train", Math.Max(Math.Max(options.GeneratorSteps, options.LabellerSteps), options.StudentSteps)); bar.Report(++stepCount, $"loss {st.Loss:F3}"); },
                i => { bar ??= new ProgressBar("generate", options.GeneratedCount); bar.Report(i); },
                // The built-in task has a rule for the true class of any text: it checks the larger model's labels.
                common.Real(parse) || parse.GetValue(common.Train) != null ? null : Farabi.Data.SyntheticSentiment.RuleLabel);
            bar?.Dispose();
            AtomicFile.WriteText(run.File("generated.jsonl"), string.Concat(result.Examples.Select(e =>
                new JsonObject { ["text"] = e.Text, ["prompted_label"] = e.PromptedLabel, ["label"] = e.Label, ["confidence"] = Math.Round(e.Confidence, 4) }.ToJsonString() + "\n")));
            var rows = new JsonArray(Row(result.OnGenerated), Row(result.OnReal));
            run.WriteJson("results.json", rows);
            var table = new TextTable("small model trained on", "examples", "trainable", "accuracy", "step ms");
            table.Add("generated (labelled by the larger model)", result.Examples.Count, result.OnGenerated.TrainableParameters, result.OnGenerated.Accuracy.ToString("P1", CultureInfo.InvariantCulture), result.OnGenerated.StepMs);
            table.Add("real labels", result.Examples.Count, result.OnReal.TrainableParameters, result.OnReal.Accuracy.ToString("P1", CultureInfo.InvariantCulture), result.OnReal.StepMs);
            Console.Error.Write(table.ToText());
            var perLabel = string.Join(", ", result.Examples.GroupBy(e => e.Label).OrderBy(g => g.Key).Select(g => $"label {g.Key}: {g.Count()}"));
            var samples = string.Concat(result.Examples.Take(6).Select(e => $"- prompted {e.PromptedLabel}, labelled {e.Label} ({e.Confidence:P0}): {e.Text.ReplaceLineEndings(" ")}\n"));
            run.WriteReport(new StringBuilder("# finetune generated\n\n")
                .AppendLine($"Task: {taskName}; evaluation on {eval.Count} real examples.")
                .AppendLine($"Larger model: GPT-2 {large.Width} wide, {large.Layers} blocks ({largeBase.Model.ParameterCount():N0} parameters); its classifier (every weight, {options.LabellerSteps} steps on {train.Count} real examples) reaches {result.LabellerAccuracy:P1}.")
                .AppendLine($"It wrote {result.Examples.Count} texts from label prefixes; its classifier agreed with the prompted label on {result.PromptAgreement:P1} ({perLabel}).")
                .AppendLine(result.TrueLabelAccuracy is { } truth
                    ? $"Check of the generated labels against the task's rule (more positive than negative words), on the {result.RuleDecided} texts it decides: {truth:P1} correct."
                    : $"The generated labels have no ground truth here; the labeller's {result.LabellerAccuracy:P1} on the {eval.Count} held-out real examples estimates their accuracy.")
                .AppendLine($"Small model: GPT-2 {small.Width} wide, {small.Layers} blocks ({smallBase.Model.ParameterCount():N0} parameters), LoRA r={options.StudentRank}, {options.StudentSteps} steps.")
                .AppendLine()
                .Append(table.ToMarkdown())
                .AppendLine()
                .AppendLine("Generated examples:")
                .AppendLine()
                .Append(samples).ToString());
            var summary = new JsonObject
            {
                ["labeller_accuracy"] = Math.Round(result.LabellerAccuracy, 4), ["prompt_agreement"] = Math.Round(result.PromptAgreement, 4),
                ["generated"] = result.Examples.Count, ["generated_label_accuracy"] = result.TrueLabelAccuracy is { } t ? Math.Round(t, 4) : null,
                ["rule_decided"] = result.TrueLabelAccuracy is null ? null : result.RuleDecided, ["results"] = rows.DeepClone(),
            };
            run.WriteJson("summary.json", summary);
            parse.InvocationConfiguration.Output.WriteLine(summary.ToJsonString());
            Console.Error.WriteLine($"report: {run.File("report.md")}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The <c>farabi demo</c> LoRA stage (about a minute on two cores): a tiny GPT pretrained on built-in stories, then
    /// head only vs LoRA r=4 vs full fine-tuning on the synthetic sentiment task.
    /// </summary>
    internal static DemoCommand.StageResult DemoStage(RunFolder run, int seed, TextWriter stdout)
    {
        var spec = PretrainSpec.Tiny(seed);
        using var pretrained = BuildBase(spec, PretrainSpec.BuiltInStories(150_000, seed), run.File("lora-tokenizer"), label: "pretrain");
        var train = ClassificationData.Synthetic(1200, seed);
        var eval = ClassificationData.Synthetic(400, seed + 7919);
        var results = new List<FineTuningResult>();
        foreach (var method in new[] { "head", "lora_r4", "full" }.Select(m => FineTuningMethod.Parse(m)))
        {
            using var bar = new ProgressBar(method.Name, 150);
            results.Add(FineTuningComparison.Run(pretrained, train, eval, [method], 150, 32, seed, (_, st) => bar.Report(st.Step, $"loss {st.Loss:F3}"))[0]);
        }
        var table = Table(results);
        stdout.Write(table.ToText());
        var lora = results.Single(r => r.Method == "lora_r4");
        var full = results.Single(r => r.Method == "full");
        var head = results.Single(r => r.Method == "head");
        var headline = $"LoRA r=4 {lora.Accuracy:P0} with {100.0 * lora.TrainableParameters / lora.TotalParameters:F1}% of weights trained (full {full.Accuracy:P0}, head {head.Accuracy:P0})";
        var md = new StringBuilder()
            .AppendLine($"A GPT-2 of {pretrained.Model.ParameterCount():N0} parameters pretrained for {spec.Steps} steps on built-in stories, then fine-tuned")
            .AppendLine("for 150 steps on the built-in synthetic sentiment task three ways: the classification head only, LoRA r=4 on every")
            .AppendLine("linear layer (plus the head), and every weight. `farabi finetune compare` runs the whole family.")
            .AppendLine()
            .Append(table.ToMarkdown());
        return new DemoCommand.StageResult(headline, md.ToString());
    }
}

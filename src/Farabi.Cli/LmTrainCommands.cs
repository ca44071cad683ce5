using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Data;
using Farabi.Models;
using Farabi.Training;

namespace Farabi.Cli;

/// <summary><c>farabi lm train</c> and <c>farabi lm eval</c>; the <c>lm</c> group adds them.</summary>
static class LmTrainCommands
{
    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>farabi lm train</c>: train a GPT-2 or LLaMA model on a token file or a text file.</summary>
    public static Command CreateTrain()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture of a new model.", DefaultValueFactory = _ => "gpt2" };
        arch.AcceptOnlyFromAmong("gpt2", "llama");
        var layers = new Option<int>("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => 4 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 4 };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "LLaMA key/value heads (grouped-query attention); default = --heads." };
        var embd = new Option<int>("--embd") { Description = "Model width.", DefaultValueFactory = _ => 128 };
        var intermediate = new Option<int?>("--intermediate") { Description = "LLaMA SwiGLU width; default ≈ 8/3 × --embd, rounded up to a multiple of 32." };
        var context = new Option<int>("--context") { Description = "Context length (positions) and training window.", DefaultValueFactory = _ => 64 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout on embeddings, residuals and attention.", DefaultValueFactory = _ => 0.0 };
        var config = new Option<string?>("--config") { Description = "An HF config.json to build the model from (overrides the size flags; vocab_size grows to the data's if smaller)." };
        var data = new Option<string?>("--data") { Description = "Training data: a token file from `farabi data tokenize` (x.bin, with x.val.bin used for validation), or a text file tokenized with --mode. Default: a built-in text." };
        var valData = new Option<string?>("--val-data") { Description = "Validation token file (default: x.val.bin beside --data when it exists)." };
        var mode = new Option<string>("--mode") { Description = "Tokenizer for a text --data: char, byte, or bpe:ENCODING (gpt2, cl100k_base, or a folder from `tokenizer train`).", DefaultValueFactory = _ => "char" };
        var valFraction = new Option<double>("--val-fraction") { Description = "Validation share of a text --data.", DefaultValueFactory = _ => 0.1 };
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/lm-train-<time>)." };
        var resume = new Option<string?>("--resume") { Description = "Continue exactly from a run folder or checkpoint folder (model, optimizer, step, data and RNG state)." };
        var maxSteps = new Option<int>("--max-steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => 300 };
        var batch = new Option<int>("--batch-size") { Description = "Windows per micro-batch.", DefaultValueFactory = _ => 12 };
        var accum = new Option<int>("--grad-accum") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => 1 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 1e-3 };
        var minLr = new Option<double?>("--min-lr") { Description = "Final learning rate of the cosine (default --lr / 10)." };
        var warmup = new Option<int?>("--warmup") { Description = "Linear warm-up steps (default 5% of --max-steps, at most 100)." };
        var decay = new Option<int?>("--decay-steps") { Description = "Step where the cosine reaches --min-lr (default --max-steps)." };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW decoupled weight decay (matrices only).", DefaultValueFactory = _ => 0.1 };
        var beta1 = new Option<double>("--beta1") { Description = "AdamW β1.", DefaultValueFactory = _ => 0.9 };
        var beta2 = new Option<double>("--beta2") { Description = "AdamW β2.", DefaultValueFactory = _ => 0.99 };
        var clip = new Option<double>("--grad-clip") { Description = "Global gradient-norm cap (0: off).", DefaultValueFactory = _ => 1.0 };
        var evalInterval = new Option<int?>("--eval-interval") { Description = "Steps between evaluations and checkpoints (default max-steps / 4, at most 250)." };
        var evalIters = new Option<int>("--eval-iters") { Description = "Batches per evaluation.", DefaultValueFactory = _ => 20 };
        var logInterval = new Option<int>("--log-interval") { Description = "Steps between training lines in metrics.jsonl.", DefaultValueFactory = _ => 10 };
        var seed = new Option<long>("--seed") { Description = "Seeds initialisation, data order and dropout.", DefaultValueFactory = _ => 1337 };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads (default: libtorch's choice, one per core)." };
        var command = new Command("train", "Train a GPT-2 or LLaMA language model (nanoGPT's loop: AdamW, warm-up + cosine, accumulation, clipping, checkpoints, exact resume).")
        {
            arch, layers, heads, kvHeads, embd, intermediate, context, dropout, config, data, valData, mode, valFraction, output, resume,
            maxSteps, batch, accum, lr, minLr, warmup, decay, weightDecay, beta1, beta2, clip, evalInterval, evalIters, logInterval, seed, threads,
        };
        command.SetAction(parse =>
        {
            var run = RunFolder.Create("lm-train", parse.GetValue(output));
            if (parse.GetValue(threads) is int n) TorchThreads.Set(n);
            var steps = parse.GetValue(maxSteps);
            var peak = parse.GetValue(lr);
            var options = new TrainerOptions
            {
                MaxSteps = steps,
                BatchSize = parse.GetValue(batch),
                GradientAccumulationSteps = parse.GetValue(accum),
                LearningRate = peak,
                MinLearningRate = parse.GetValue(minLr) ?? peak / 10,
                WarmupSteps = parse.GetValue(warmup) ?? Math.Min(100, steps / 20),
                LrDecaySteps = parse.GetValue(decay),
                WeightDecay = parse.GetValue(weightDecay),
                Beta1 = parse.GetValue(beta1),
                Beta2 = parse.GetValue(beta2),
                GradClip = parse.GetValue(clip),
                EvalInterval = parse.GetValue(evalInterval) ?? Math.Clamp(steps / 4, 1, 250),
                EvalIters = parse.GetValue(evalIters),
                LogInterval = parse.GetValue(logInterval),
                Seed = parse.GetValue(seed),
            }.Validate();
            var resumeFrom = parse.GetValue(resume);
            if (resumeFrom != null) options = ResumeOptions(TrainingCheckpoint.ReadOptions(resumeFrom), options, parse,
                [maxSteps, batch, accum, lr, minLr, warmup, decay, weightDecay, beta1, beta2, clip, evalInterval, evalIters, logInterval, seed]);

            var (trainFile, valFile, dataDescription) = OpenData(run, parse.GetValue(data), parse.GetValue(valData), parse.GetValue(mode)!, parse.GetValue(valFraction), (ulong)options.Seed);
            using var trainData = trainFile;
            using var valDataFile = valFile;
            Trainer trainer;
            if (resumeFrom != null)
            {
                trainer = Trainer.Resume(resumeFrom, trainData, valDataFile, options);
                Console.Error.WriteLine($"resumed {TrainingCheckpoint.Resolve(resumeFrom)} at step {trainer.Step}");
            }
            else
            {
                var modelConfig = BuildConfig(parse.GetValue(config), parse.GetValue(arch)!, trainData.VocabSize, parse.GetValue(layers), parse.GetValue(heads),
                    parse.GetValue(kvHeads), parse.GetValue(embd), parse.GetValue(intermediate), parse.GetValue(context), parse.GetValue(dropout));
                trainer = new Trainer(modelConfig.CreateModel(options.Seed), options, trainData, valDataFile);
            }
            using var model = trainer.Model;
            using var _ = trainer;
            return Train(run, trainer, dataDescription);
        });
        return command;
    }

    /// <summary>
    /// A resumed run keeps the options it was saved with, so that it continues exactly; only the flags given on this
    /// command line replace them (typically --max-steps to train further, which leaves the learning-rate schedule
    /// where it was unless --decay-steps is given too).
    /// </summary>
    static TrainerOptions ResumeOptions(TrainerOptions saved, TrainerOptions flags, ParseResult parse, Option[] trainingFlags)
    {
        var given = trainingFlags.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToHashSet();
        T Pick<T>(string flag, T fromFlags, T fromSaved) => given.Contains(flag) ? fromFlags : fromSaved;
        return saved with
        {
            MaxSteps = Pick("--max-steps", flags.MaxSteps, saved.MaxSteps),
            BatchSize = Pick("--batch-size", flags.BatchSize, saved.BatchSize),
            GradientAccumulationSteps = Pick("--grad-accum", flags.GradientAccumulationSteps, saved.GradientAccumulationSteps),
            LearningRate = Pick("--lr", flags.LearningRate, saved.LearningRate),
            MinLearningRate = Pick("--min-lr", flags.MinLearningRate, saved.MinLearningRate),
            WarmupSteps = Pick("--warmup", flags.WarmupSteps, saved.WarmupSteps),
            LrDecaySteps = Pick("--decay-steps", flags.LrDecaySteps, saved.LrDecaySteps ?? saved.MaxSteps),
            WeightDecay = Pick("--weight-decay", flags.WeightDecay, saved.WeightDecay),
            Beta1 = Pick("--beta1", flags.Beta1, saved.Beta1),
            Beta2 = Pick("--beta2", flags.Beta2, saved.Beta2),
            GradClip = Pick("--grad-clip", flags.GradClip, saved.GradClip),
            EvalInterval = Pick("--eval-interval", flags.EvalInterval, saved.EvalInterval),
            EvalIters = Pick("--eval-iters", flags.EvalIters, saved.EvalIters),
            LogInterval = Pick("--log-interval", flags.LogInterval, saved.LogInterval),
            Seed = Pick("--seed", flags.Seed, saved.Seed),
        };
    }

    /// <summary>Size of the built-in training text (procedural stories) used when no --data is given.</summary>
    internal const int BuiltInTextChars = 1_000_000;

    static (TokenFile Train, TokenFile? Val, JsonObject Description) OpenData(RunFolder run, string? data, string? valData, string mode, double valFraction, ulong seed)
    {
        string trainPath;
        string? valPath = valData;
        var description = new JsonObject();
        if (data is null || !data.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
        {
            // Text (given, or the built-in stand-in) is tokenized into the run folder, so the run is self-contained.
            var text = data is null ? BuiltInText.Generate(BuiltInTextChars, (int)seed) : TokenCorpus.ReadText([data]);
            var tokenizer = TextTokenizers.ForMode(mode, text);
            var files = TokenCorpus.Write(text, tokenizer, run.File(Path.Combine("data", "tokens.bin")), valFraction,
                data is null ? ["built-in:BuiltInText"] : [Path.GetFullPath(data)]);
            (trainPath, valPath) = (files.TrainPath, valPath ?? files.ValPath);
            description["text"] = data ?? "built-in";
            description["mode"] = mode;
            description["val_fraction"] = valFraction;
        }
        else
        {
            trainPath = data;
            var twin = TokenCorpus.ValPathFor(data);
            if (valPath is null && File.Exists(twin)) valPath = twin;
        }
        description["train"] = Path.GetFullPath(trainPath);
        description["val"] = valPath is null ? null : Path.GetFullPath(valPath);
        var train = TokenFile.Open(trainPath);
        return (train, valPath is null ? null : TokenFile.Open(valPath), description);
    }

    static CausalLanguageModelConfig BuildConfig(string? configPath, string arch, int vocab, int layers, int heads, int? kvHeads, int embd, int? intermediate, int context, double dropout)
    {
        if (configPath != null)
        {
            var loaded = CausalLanguageModelConfig.Load(configPath);
            return loaded.VocabSize >= vocab ? loaded : loaded with { VocabSize = vocab };
        }
        return arch switch
        {
            "gpt2" => new Gpt2Config
            {
                VocabSize = vocab, NPositions = context, NEmbd = embd, NLayer = layers, NHead = heads,
                ResidPdrop = dropout, EmbdPdrop = dropout, AttnPdrop = dropout, BosTokenId = null, EosTokenId = null,
            }.Validate(),
            _ => new LlamaConfig
            {
                VocabSize = vocab, HiddenSize = embd, NumHiddenLayers = layers, NumAttentionHeads = heads, NumKeyValueHeads = kvHeads,
                // LLaMA's SwiGLU keeps the MLP's parameter count of a 4x GELU MLP: 2/3 of 4 × width, rounded up to 32.
                IntermediateSize = intermediate ?? (8 * embd / 3 + 31) / 32 * 32,
                MaxPositionEmbeddings = context, AttentionDropout = dropout, RmsNormEps = 1e-5, BosTokenId = null, EosTokenId = null,
            }.Validate(),
        };
    }

    static int Train(RunFolder run, Trainer trainer, JsonObject data)
    {
        var o = trainer.Options;
        var checkpoints = run.File("checkpoints");
        Console.Error.WriteLine(Inv($"{trainer.Model.Config.ModelType}: {trainer.Model.ParameterCount():N0} parameters, vocabulary {trainer.Model.VocabSize}, context {trainer.ContextLength}; {trainer.TokensPerStep:N0} tokens per step"));
        Console.Error.WriteLine(Inv($"measuring the fp32 matmul peak ... {ModelFlops.MatmulPeakFlops / 1e9:F1} GFLOP/s"));
        run.WriteConfig(new JsonObject
        {
            ["verb"] = "lm train",
            ["model"] = trainer.Model.Config.ToJson(),
            ["trainer"] = JsonSerializer.SerializeToNode(o, TrainerOptions.Json),
            ["data"] = data.DeepClone(),
            ["tokenizer"] = trainer.Tokenizer.DeepClone(),
            ["parameters"] = trainer.Model.ParameterCount(),
            ["resumed_at_step"] = trainer.Step,
        });

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl-C stops after the current step and saves `latest`; a second one kills the process.
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
            Console.Error.WriteLine("\nstopping after this step; saving checkpoints/latest ...");
        };
        Console.CancelKeyPress += onCancel;
        var wall = Stopwatch.StartNew();
        var startStep = trainer.Step;
        var progress = new ProgressBar("train", o.MaxSteps);
        double? lastVal = null;
        StepReport? lastStep = null;
        double tokensPerSecond = 0, mfu = 0; // smoothed like nanoGPT's running MFU
        trainer.StepCompleted += s =>
        {
            lastStep = s;
            var first = s.Step == startStep + 1;
            tokensPerSecond = first ? s.TokensPerSecond : 0.9 * tokensPerSecond + 0.1 * s.TokensPerSecond;
            mfu = first ? s.Mfu : 0.9 * mfu + 0.1 * s.Mfu;
            progress.Report(s.Step, Inv($"loss {s.Loss:F4}{(lastVal is null ? "" : $" val {lastVal:F4}")} {tokensPerSecond:N0} tok/s mfu {mfu:P1}"));
            if (s.Step % o.LogInterval == 0)
                run.AppendMetrics(new JsonObject
                {
                    ["kind"] = "train", ["step"] = s.Step, ["loss"] = s.Loss, ["lr"] = s.LearningRate, ["grad_norm"] = s.GradNorm,
                    ["tokens_per_second"] = s.TokensPerSecond, ["mfu"] = s.Mfu, ["elapsed_s"] = wall.Elapsed.TotalSeconds,
                });
        };
        trainer.Evaluated += e =>
        {
            lastVal = e.ValLoss;
            run.AppendMetrics(new JsonObject
            {
                ["kind"] = "eval", ["step"] = e.Step, ["train_loss"] = e.TrainLoss, ["val_loss"] = e.ValLoss, ["best"] = e.IsBest,
                ["lr"] = LearningRateSchedule.At(Math.Max(0, e.Step - 1), o), ["tokens_per_second"] = tokensPerSecond, ["mfu"] = mfu,
                ["tokens_seen"] = trainer.TokensSeen, ["elapsed_s"] = wall.Elapsed.TotalSeconds,
            });
            progress.Report(e.Step, Inv($"eval: train {e.TrainLoss:F4}{(e.ValLoss is null ? "" : $" val {e.ValLoss:F4}")}{(e.IsBest ? " (best)" : "")}"));
        };
        TrainingSummary summary;
        try
        {
            summary = trainer.Run(checkpoints, cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            progress.Dispose();
        }
        wall.Stop();
        // On a shared machine the start-up peak may have been taken in a slow moment; measure again and judge the
        // run's throughput against the better of the two, so the reported MFU errs low rather than above 100%.
        var peak = Math.Max(ModelFlops.MatmulPeakFlops, ModelFlops.MeasureMatmulPeak());
        var runMfu = ModelFlops.Utilisation(trainer.FlopsPerToken, summary.TokensPerSecond, 1, peak);

        var table = new TextTable("metric", "value")
            .Add("steps", $"{summary.Steps}/{o.MaxSteps}{(summary.Cancelled ? " (stopped)" : "")}")
            .Add("parameters", trainer.Model.ParameterCount().ToString("N0", CultureInfo.InvariantCulture))
            .Add("final train loss", summary.LastEval?.TrainLoss)
            .Add("final val loss", summary.LastEval?.ValLoss)
            .Add(data["val"] is null ? "best train loss" : "best val loss", Inv($"{summary.BestLoss:F4} (step {summary.BestStep})"))
            .Add("tokens/s", Math.Round(summary.TokensPerSecond))
            .Add("MFU", Inv($"{runMfu * 100:F1}%"))
            .Add("matmul peak GFLOP/s", Math.Round(peak / 1e9, 1))
            .Add("train time", Inv($"{summary.TrainSeconds:F1} s"))
            .Add("wall time", Inv($"{wall.Elapsed.TotalSeconds:F1} s"));
        run.WriteReport($"# lm train\n\n{trainer.Model.Config.ModelType}, {trainer.Model.ParameterCount():N0} parameters, context {trainer.ContextLength}, " +
            $"batch {o.BatchSize} × {o.GradientAccumulationSteps}, lr {o.LearningRate.ToString(CultureInfo.InvariantCulture)}.\n\n{table.ToMarkdown()}\n" +
            $"Checkpoints: `checkpoints/{Trainer.LatestName}`, `checkpoints/{Trainer.BestName}` (HF model folders + training state).\n");
        run.WriteJson("summary.json", new JsonObject
        {
            ["steps"] = summary.Steps, ["max_steps"] = o.MaxSteps, ["cancelled"] = summary.Cancelled,
            ["parameters"] = trainer.Model.ParameterCount(), ["tokens_per_step"] = trainer.TokensPerStep,
            ["final_train_loss"] = summary.LastEval?.TrainLoss, ["final_val_loss"] = summary.LastEval?.ValLoss,
            ["best_loss"] = double.IsFinite(summary.BestLoss) ? summary.BestLoss : null, ["best_step"] = summary.BestStep,
            ["tokens_per_second"] = summary.TokensPerSecond, ["mfu"] = runMfu, ["matmul_peak_flops"] = peak,
            ["matmul_peak_start_flops"] = ModelFlops.MatmulPeakFlops, ["mean_step_mfu_vs_start_peak"] = summary.Mfu,
            ["flops_per_token"] = trainer.FlopsPerToken, ["threads"] = TorchThreads.Count,
            ["train_seconds"] = summary.TrainSeconds, ["wall_seconds"] = wall.Elapsed.TotalSeconds,
        });
        Console.Out.Write(table.ToText());
        Console.Error.WriteLine($"run folder: {run.Path}");
        return summary.Cancelled ? 130 : 0;
    }

    /// <summary><c>farabi lm eval</c>: perplexity and bits per byte of a model on a text or token file.</summary>
    public static Command CreateEval()
    {
        var modelDir = new Option<string>("--model") { Description = "Model folder (HF config.json + model.safetensors), checkpoint folder, or run folder (its checkpoints/best).", Required = true };
        var data = new Option<string>("--data") { Description = "Text file (tokenized with the model's farabi_tokenizer.json) or token file (x.bin).", Required = true };
        var context = new Option<int?>("--context") { Description = "Window length (default the model's context)." };
        var stride = new Option<int?>("--stride") { Description = "Tokens each window advances (default context / 2)." };
        var batch = new Option<int>("--batch-size") { Description = "Windows per forward pass.", DefaultValueFactory = _ => 16 };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads (default: libtorch's choice)." };
        var command = new Command("eval", "Perplexity, bits per token and bits per byte of a model on a text file (sliding windows).") { modelDir, data, context, stride, batch, threads };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) is int n) TorchThreads.Set(n);
            var folder = ResolveModelFolder(parse.GetValue(modelDir)!);
            var dataPath = parse.GetValue(data)!;
            long[] tokens;
            long bytes;
            if (dataPath.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
            {
                using var file = TokenFile.Open(dataPath);
                tokens = file.ReadAll();
                bytes = file.Info.Bytes;
            }
            else
            {
                var tokenizer = TryLoadTokenizer(folder)
                    ?? throw new UserError($"Model folder '{folder}' has no {TrainingCheckpoint.TokenizerFileName} to tokenize '{dataPath}'; pass a token file (x.bin) instead.");
                var text = TokenCorpus.ReadText([dataPath]);
                tokens = Array.ConvertAll(tokenizer.Encode(text), id => (long)id);
                bytes = System.Text.Encoding.UTF8.GetByteCount(text);
            }
            using var model = CausalLanguageModel.Load(folder);
            if (tokens.Length > 0 && tokens.Max() >= model.VocabSize)
                throw new InvalidDataException($"'{dataPath}' holds token id {tokens.Max()}, outside the model's vocabulary of {model.VocabSize}.");
            var clock = Stopwatch.StartNew();
            var result = Perplexity.Evaluate(model, tokens, bytes, parse.GetValue(context), parse.GetValue(stride), parse.GetValue(batch));
            Console.Error.WriteLine(Inv($"{result.Tokens:N0} tokens scored in {clock.Elapsed.TotalSeconds:F1} s"));
            Console.Out.WriteLine(new JsonObject
            {
                ["model"] = folder, ["data"] = dataPath, ["tokens"] = result.Tokens, ["bytes"] = result.Bytes, ["loss"] = result.MeanLoss,
                ["perplexity"] = result.Perplexity, ["bits_per_token"] = result.BitsPerToken,
                ["bits_per_byte"] = double.IsNaN(result.BitsPerByte) ? null : result.BitsPerByte,
            }.ToJsonString());
            return 0;
        });
        return command;
    }

    /// <summary>A model folder given directly, or a run folder's best (else latest) checkpoint.</summary>
    /// <summary>The tokenizer saved beside a model (<c>farabi_tokenizer.json</c>), or null when the folder has none.</summary>
    internal static ITextTokenizer? TryLoadTokenizer(string folder)
    {
        var path = Path.Combine(folder, TrainingCheckpoint.TokenizerFileName);
        if (!File.Exists(path)) return null;
        JsonObject description;
        try { description = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"'{path}' is not a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}"); }
        return TextTokenizers.FromJson(description, path);
    }

    internal static string ResolveModelFolder(string path)
    {
        // A run folder has a config.json too (the run's), so a model folder is recognised by its weights.
        if (File.Exists(Path.Combine(path, CausalLanguageModel.WeightsFileName))) return path;
        foreach (var name in new[] { Trainer.BestName, Trainer.LatestName })
        {
            var candidate = Path.Combine(path, "checkpoints", name);
            if (File.Exists(Path.Combine(candidate, CausalLanguageModel.WeightsFileName))) return candidate;
        }
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Model folder '{path}' does not exist.");
        throw new FileNotFoundException($"'{path}' holds no {CausalLanguageModel.WeightsFileName} (nor checkpoints/best or checkpoints/latest).");
    }
}

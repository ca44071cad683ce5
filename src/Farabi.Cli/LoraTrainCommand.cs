using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Farabi.Data;
using Farabi.Lora;
using Farabi.Models;
using TorchSharp;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi lora train</c>: fine-tune a classifier (TSV <c>text&lt;TAB&gt;label</c>, or the built-in synthetic
/// sentiment task) or a causal LM (a text file) with LoRA, DoRA, the head only, or every weight. Text is
/// tokenized as UTF-8 bytes (ids 1..256, 0 pads) until the BPE tokenizers are wired in.
/// </summary>
static class LoraTrainCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Base HF model folder (causal LM or classifier). Default: a fresh tiny byte-level GPT-2." };
        var tsv = new Option<string?>("--tsv") { Description = "Classification data: one 'text<TAB>label' per line. Default: the built-in synthetic sentiment task." };
        var text = new Option<string?>("--text") { Description = "Causal LM data: a UTF-8 text file (next-token fine-tuning instead of classification)." };
        var method = new Option<string>("--method") { Description = "lora, dora, head (the classification head only) or full (every weight).", DefaultValueFactory = _ => "lora" };
        method.AcceptOnlyFromAmong("lora", "dora", "head", "full");
        var r = new Option<int>("--r") { Description = "LoRA rank.", DefaultValueFactory = _ => 8 };
        var alpha = new Option<double>("--alpha") { Description = "LoRA alpha (scale alpha / r).", DefaultValueFactory = _ => 16 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout on the adapter input.", DefaultValueFactory = _ => 0.05 };
        var targets = new Option<string[]>("--targets") { Description = "Target module names, or all-linear.", DefaultValueFactory = _ => [LoraConfig.AllLinear], AllowMultipleArgumentsPerToken = true };
        var rslora = new Option<bool>("--rslora") { Description = "Scale by alpha / sqrt(r) (rsLoRA)." };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => 300 };
        var batch = new Option<int>("--batch") { Description = "Examples per step.", DefaultValueFactory = _ => 16 };
        var lr = new Option<double?>("--lr") { Description = "AdamW learning rate. Default per method (FineTuningMethod): lora/dora 5e-3, full 5e-4, head 1e-2; adapters take about 10x full fine-tuning's rate." };
        var seq = new Option<int>("--seq") { Description = "Longest sequence (tokens).", DefaultValueFactory = _ => 96 };
        var evalFraction = new Option<double>("--eval-fraction") { Description = "Share of the examples held out for evaluation.", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<int>("--seed") { Description = "Fixes data order and initialisation.", DefaultValueFactory = _ => 1337 };
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/lora-train-<time>/)." };
        var command = new Command("train", "Fine-tune with LoRA (or DoRA, head only, full) and save a PEFT adapter in a run folder.")
        {
            model, tsv, text, method, r, alpha, dropout, targets, rslora, steps, batch, lr, seq, evalFraction, seed, output,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(tsv) != null && parse.GetValue(text) != null) throw new UserError("Give --tsv (classification) or --text (language modelling), not both.");
            var s = new Settings(parse.GetValue(model), parse.GetValue(tsv), parse.GetValue(text), parse.GetValue(method)!, parse.GetValue(r), parse.GetValue(alpha),
                parse.GetValue(dropout), parse.GetValue(targets)!, parse.GetValue(rslora), parse.GetValue(seq), parse.GetValue(evalFraction), parse.GetValue(seed),
                new FineTuneOptions(parse.GetValue(steps), parse.GetValue(batch), parse.GetValue(lr) ?? DefaultLearningRate(parse.GetValue(method)!), 0, parse.GetValue(seed)));
            if (s.Options.Steps < 1 || s.Options.BatchSize < 1) throw new UserError("--steps and --batch must be at least 1.");
            if (s.EvalFraction is < 0 or >= 1) throw new UserError("--eval-fraction must be in [0, 1).");
            var run = RunFolder.Create("lora train", parse.GetValue(output));
            run.WriteConfig(new JsonObject
            {
                ["model"] = s.Model, ["tsv"] = s.Tsv, ["text"] = s.Text, ["method"] = s.Method, ["r"] = s.R, ["alpha"] = s.Alpha, ["dropout"] = s.Dropout,
                ["targets"] = new JsonArray(s.Targets.Select(t => (JsonNode)t).ToArray()), ["rslora"] = s.RsLora, ["steps"] = s.Options.Steps,
                ["batch"] = s.Options.BatchSize, ["lr"] = s.Options.LearningRate, ["seq"] = s.Sequence, ["eval_fraction"] = s.EvalFraction, ["seed"] = s.Seed,
                ["tokens"] = "utf8-bytes+1",
            });
            var result = s.Text != null ? TrainLanguageModel(s, run) : TrainClassifier(s, run);
            run.WriteJson("results.json", new JsonArray(result.DeepClone()));
            parse.InvocationConfiguration.Output.WriteLine(result.ToJsonString());
            return 0;
        });
        return command;
    }

    static double DefaultLearningRate(string method) => method switch
    {
        "full" => Farabi.Research.FineTuning.FineTuningMethod.DefaultFullLearningRate,
        "head" => Farabi.Research.FineTuning.FineTuningMethod.DefaultHeadLearningRate,
        _ => Farabi.Research.FineTuning.FineTuningMethod.DefaultLoraLearningRate,
    };

    sealed record Settings(string? Model, string? Tsv, string? Text, string Method, int R, double Alpha, double Dropout, string[] Targets, bool RsLora,
        int Sequence, double EvalFraction, int Seed, FineTuneOptions Options);

    static double MedianMs(List<double> ms) => ms.Count == 0 ? double.NaN : ms.Order().ElementAt(ms.Count / 2);

    static Gpt2Config TinyByteGpt2(int positions) => new()
    {
        VocabSize = SyntheticSentiment.ByteVocabSize, NPositions = positions, NEmbd = 64, NLayer = 2, NHead = 4,
        ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0, BosTokenId = null, EosTokenId = null,
    };

    static List<(string Text, string Label, int Line)> ReadTsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        var rows = new List<(string, string, int)>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Length == 0) continue;
            var tab = line.LastIndexOf('\t');
            if (tab <= 0 || tab == line.Length - 1) throw new FormatException($"Data file '{path}', line {n}: expected 'text<TAB>label'.");
            rows.Add((line[..tab], line[(tab + 1)..].Trim(), n));
        }
        if (rows.Count < 2) throw new FormatException($"Data file '{path}' has {rows.Count} examples; at least 2 are needed.");
        // A header line such as "sentence<TAB>label" is skipped when its label is not a label elsewhere.
        if (rows.Count > 2 && rows.Skip(1).All(x => x.Item2 != rows[0].Item2) && !int.TryParse(rows[0].Item2, out _)) rows.RemoveAt(0);
        return rows;
    }

    static JsonObject TrainClassifier(Settings s, RunFolder run)
    {
        // Data: labels sorted (numerically when they are numbers) become class indices.
        List<(string Text, string Label)> rows = s.Tsv != null
            ? ReadTsv(s.Tsv).Select(x => (x.Text, x.Label)).ToList()
            : SyntheticSentiment.Generate(2000, s.Seed).Select(x => (x.Text, x.Label.ToString(CultureInfo.InvariantCulture))).ToList();
        var labels = rows.Select(x => x.Label).Distinct().OrderBy(l => int.TryParse(l, out var v) ? v : int.MaxValue).ThenBy(l => l, StringComparer.Ordinal).ToList();
        if (labels.Count < 2) throw new FormatException($"The data has a single label '{labels[0]}'; classification needs two or more.");
        var examples = rows.Select(x => new LabelledIds(SyntheticSentiment.ByteIds(x.Text), labels.IndexOf(x.Label))).ToList();
        new Random(s.Seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(examples));
        var evalCount = (int)Math.Round(examples.Count * s.EvalFraction);
        var eval = examples.Take(evalCount).ToList();
        var train = examples.Skip(evalCount).ToList();

        SequenceClassificationModel net;
        if (s.Model == null) net = new SequenceClassificationModel(new Gpt2LMHeadModel(TinyByteGpt2(Math.Max(s.Sequence, 8)), s.Seed), labels.Count, padTokenId: 0);
        else if (SequenceClassificationModel.IsClassificationFolder(s.Model)) net = SequenceClassificationModel.Load(s.Model);
        else net = SequenceClassificationModel.FromCausalLM(s.Model, labels.Count, padTokenId: 0);
        if (net.NumLabels != labels.Count) throw new UserError($"The classifier in '{s.Model}' has {net.NumLabels} labels but the data has {labels.Count}.");
        using var _ = net;
        if (s.Model == null) net.Body.SaveHf(run.File("base")); // the adapter needs its base model to be merged or reloaded

        LoraModel? lora = null;
        switch (s.Method)
        {
            case "lora" or "dora":
                lora = LoraModel.Inject(net, new LoraConfig
                {
                    R = s.R, LoraAlpha = s.Alpha, LoraDropout = s.Dropout, TargetModules = s.Targets, UseRsLora = s.RsLora, UseDora = s.Method == "dora",
                    ModulesToSave = ["score"], TaskType = "SEQ_CLS", BaseModelNameOrPath = s.Model ?? run.File("base"),
                }, seed: s.Seed);
                break;
            case "head":
                foreach (var (name, p) in net.named_parameters()) p.requires_grad = name.StartsWith("score.", StringComparison.Ordinal);
                break;
        }
        var trainable = net.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        var total = net.parameters().Sum(p => p.numel());
        Console.Error.WriteLine($"{s.Method}: {trainable:N0} trainable of {total:N0} parameters; {train.Count} training / {eval.Count} held-out examples, {labels.Count} labels");

        var trainMs = new List<double>();
        double? accuracy = null;
        using (var bar = new ProgressBar("lora train", s.Options.Steps))
            foreach (var step in LoraFineTuner.TrainClassifier(net, train, eval, s.Options with { EvalEvery = Math.Max(1, s.Options.Steps / 10) }))
            {
                trainMs.Add(step.StepMs);
                bar.Report(step.Step, $"loss {step.Loss:F3}" + (step.EvalAccuracy is { } a ? $" acc {a:P1}" : ""));
                if (step.EvalAccuracy is { } acc)
                {
                    accuracy = acc;
                    run.AppendMetrics(new JsonObject { ["step"] = step.Step, ["loss"] = step.Loss, ["eval_accuracy"] = acc, ["eval_loss"] = step.EvalLoss });
                }
            }
        var stepMs = MedianMs(trainMs); // training steps only, evaluations excluded

        if (lora != null) lora.SaveAdapter(run.File("adapter"));
        else net.SaveHf(run.File("model"));
        var result = new JsonObject
        {
            ["method"] = s.Method == "lora" ? $"lora_r{s.R}" : s.Method == "dora" ? $"dora_r{s.R}" : s.Method,
            ["trainable_params"] = trainable,
            ["total_params"] = total,
            ["accuracy"] = accuracy,
            ["step_ms"] = Math.Round(stepMs, 1),
            ["peak_mb"] = Math.Round(Memory.PeakRssMb(), 1),
            ["run"] = run.Path,
        };
        var table = new TextTable("method", "trainable", "total", "accuracy", "step ms", "peak MB");
        table.Add(result["method"]!.GetValue<string>(), trainable, total, accuracy, stepMs, result["peak_mb"]!.GetValue<double>());
        Console.Error.Write(table.ToText());
        run.WriteReport($"# lora train\n\nData: {s.Tsv ?? "built-in synthetic sentiment"}; base: {s.Model ?? "fresh tiny byte-level GPT-2"}.\n\n{table.ToMarkdown()}");
        return result;
    }

    static JsonObject TrainLanguageModel(Settings s, RunFolder run)
    {
        if (s.Method is "head") throw new UserError("--method head trains a classification head; it does not apply to --text.");
        if (!File.Exists(s.Text)) throw new FileNotFoundException($"Text file '{s.Text}' does not exist.", s.Text);
        var ids = SyntheticSentiment.ByteIds(File.ReadAllText(s.Text!));
        var evalCount = (int)(ids.Length * s.EvalFraction);
        var trainIds = ids[..^evalCount];
        var evalIds = ids[^evalCount..];
        using var net = s.Model != null ? CausalLanguageModel.Load(s.Model) : new Gpt2LMHeadModel(TinyByteGpt2(Math.Max(s.Sequence, 8)), s.Seed);
        if (net.VocabSize < SyntheticSentiment.ByteVocabSize) throw new UserError($"The model's vocabulary ({net.VocabSize}) is smaller than the 257 byte ids this verb uses.");
        if (s.Model == null) net.SaveHf(run.File("base"));
        LoraModel? lora = null;
        if (s.Method is "lora" or "dora")
            lora = LoraModel.Inject(net, new LoraConfig
            {
                R = s.R, LoraAlpha = s.Alpha, LoraDropout = s.Dropout, TargetModules = s.Targets, UseRsLora = s.RsLora, UseDora = s.Method == "dora",
                TaskType = "CAUSAL_LM", BaseModelNameOrPath = s.Model ?? run.File("base"),
            }, seed: s.Seed);
        var trainable = net.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        var total = net.parameters().Sum(p => p.numel());
        Console.Error.WriteLine($"{s.Method}: {trainable:N0} trainable of {total:N0} parameters; {trainIds.Length:N0} training / {evalIds.Length:N0} held-out byte tokens");
        var before = LoraFineTuner.LanguageModelLoss(net, evalIds, Math.Min(s.Sequence, net.ContextLength));
        double? evalLoss = null;
        var trainMs = new List<double>();
        using (var bar = new ProgressBar("lora train", s.Options.Steps))
            foreach (var step in LoraFineTuner.TrainLanguageModel(net, trainIds, evalIds, s.Sequence, s.Options with { EvalEvery = Math.Max(1, s.Options.Steps / 10) }))
            {
                trainMs.Add(step.StepMs);
                bar.Report(step.Step, $"loss {step.Loss:F3}");
                if (step.EvalLoss is { } l)
                {
                    evalLoss = l;
                    run.AppendMetrics(new JsonObject { ["step"] = step.Step, ["loss"] = step.Loss, ["eval_loss"] = l });
                }
            }
        var stepMs = MedianMs(trainMs);
        if (lora != null) lora.SaveAdapter(run.File("adapter"));
        else net.SaveHf(run.File("model"));
        var result = new JsonObject
        {
            ["method"] = s.Method == "full" ? "full" : $"{s.Method}_r{s.R}",
            ["trainable_params"] = trainable,
            ["total_params"] = total,
            ["eval_loss_before"] = before,
            ["eval_loss"] = evalLoss,
            ["step_ms"] = Math.Round(stepMs, 1),
            ["peak_mb"] = Math.Round(Memory.PeakRssMb(), 1),
            ["run"] = run.Path,
        };
        var table = new TextTable("method", "trainable", "total", "eval loss before", "eval loss after", "step ms");
        table.Add(result["method"]!.GetValue<string>(), trainable, total, before, evalLoss, stepMs);
        Console.Error.Write(table.ToText());
        run.WriteReport($"# lora train (language model)\n\nText: {s.Text}; base: {s.Model ?? "fresh tiny byte-level GPT-2"}.\n\n{table.ToMarkdown()}");
        return result;
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Lora;
using Farabi.Models;
using Farabi.Tokenizers;
using TorchSharp;

namespace Farabi.Cli;

/// <summary><c>farabi lora</c>: inspect, merge, train and benchmark LoRA adapters in PEFT's format.</summary>
static class LoraCommands
{
    public static Command Create() => new("lora", "LoRA adapters (Hugging Face PEFT format): inspect, merge, train, bench.")
    {
        CreateInspect(), CreateMerge(), LoraTrainCommand.Create(), CreateBench(),
    };

    /// <summary><c>farabi lora inspect ADAPTER_DIR</c>: the config and a table of the adapted modules.</summary>
    static Command CreateInspect()
    {
        var dir = new Argument<string>("ADAPTER_DIR") { Description = "A PEFT adapter folder (adapter_config.json + adapter_model.safetensors)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the text report." };
        var command = new Command("inspect", "Show an adapter's config, targets, ranks, trainable parameter count and per-module shapes.") { dir, json };
        command.SetAction(parse =>
        {
            var summary = AdapterSummary.Read(parse.GetValue(dir)!);
            var c = summary.Config;
            if (parse.GetValue(json))
            {
                parse.InvocationConfiguration.Output.WriteLine(new JsonObject
                {
                    ["directory"] = Path.GetFullPath(summary.Directory),
                    ["config"] = c.ToJson(),
                    ["trainable_params"] = summary.TotalParameters,
                    ["modules"] = new JsonArray(summary.Modules.Select(m => (JsonNode)new JsonObject
                    {
                        ["module"] = m.Module,
                        ["rank"] = m.Rank,
                        ["params"] = m.Parameters,
                        ["tensors"] = new JsonObject(m.Tensors.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)new JsonArray(t.Value.Select(d => (JsonNode)d).ToArray())))),
                    }).ToArray()),
                    ["other_tensors"] = new JsonObject(summary.OtherTensors.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)new JsonArray(t.Value.Select(d => (JsonNode)d).ToArray())))),
                }.ToJsonString());
                return 0;
            }
            var scaling = c.UseRsLora ? c.LoraAlpha / Math.Sqrt(c.R) : c.LoraAlpha / c.R;
            var o = parse.InvocationConfiguration.Output;
            o.WriteLine($"adapter        {Path.GetFullPath(summary.Directory)}");
            o.WriteLine($"peft_type      LORA{(c.UseDora ? " (DoRA)" : "")}, task_type {c.TaskType}");
            o.WriteLine($"base model     {c.BaseModelNameOrPath ?? "(not recorded)"}");
            o.WriteLine($"r / alpha      {c.R} / {c.LoraAlpha.ToString(CultureInfo.InvariantCulture)}  (scale {scaling.ToString("G4", CultureInfo.InvariantCulture)}{(c.UseRsLora ? ", rsLoRA" : "")}), dropout {c.LoraDropout.ToString(CultureInfo.InvariantCulture)}");
            o.WriteLine($"targets        {c.TargetModulesPattern ?? string.Join(", ", c.TargetModules)}{(c.FanInFanOut ? "  (fan_in_fan_out)" : "")}");
            o.WriteLine($"bias           {c.Bias}");
            o.WriteLine($"modules_to_save {(c.ModulesToSave.Count == 0 ? "none" : string.Join(", ", c.ModulesToSave))}");
            o.WriteLine($"parameters     {summary.TotalParameters:N0} in {summary.Modules.Count} adapted modules{(summary.OtherTensors.Count > 0 ? $" and {summary.OtherTensors.Count} other tensors" : "")}");
            o.WriteLine();
            var table = new TextTable("module", "rank", "in", "out", "A", "B", "magnitude", "params");
            foreach (var m in summary.Modules)
                table.Add(m.Module, m.Rank, m.InFeatures, m.OutFeatures, Shape(m, "lora_A.weight", "lora_embedding_A"), Shape(m, "lora_B.weight", "lora_embedding_B"),
                    Shape(m, "lora_magnitude_vector", null), m.Parameters);
            foreach (var (name, shape) in summary.OtherTensors)
                table.Add(name, "", "", "", "", "", "", shape.Aggregate(1L, (a, b) => a * b));
            o.Write(table.ToText());
            return 0;
        });
        return command;
    }

    static string Shape(AdapterModuleSummary m, string key, string? alt) =>
        m.Tensors.TryGetValue(key, out var s) || (alt != null && m.Tensors.TryGetValue(alt, out s)) ? "[" + string.Join(", ", s) + "]" : "";

    /// <summary><c>farabi lora merge</c>: base model + adapter → a plain HF model folder.</summary>
    static Command CreateMerge()
    {
        var model = new Option<string>("--model") { Description = "The base model folder (HF config.json + model.safetensors; causal LM or sequence classifier).", Required = true };
        var adapter = new Option<string>("--adapter") { Description = "The PEFT adapter folder.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder to write the merged model to.", Required = true };
        var command = new Command("merge", "Merge a LoRA adapter into its base model and write a plain Hugging Face model folder.") { model, adapter, output };
        command.SetAction(parse =>
        {
            var modelDir = parse.GetValue(model)!;
            var adapterDir = parse.GetValue(adapter)!;
            var outDir = parse.GetValue(output)!;
            if (Path.GetFullPath(outDir) == Path.GetFullPath(modelDir)) throw new UserError($"--out '{outDir}' is the base model folder; write the merged model elsewhere.");
            var summary = AdapterSummary.Read(adapterDir);
            // A SEQ_CLS adapter on a causal LM folder: build the classifier around it (the adapter carries the head), as
            // PEFT users do with AutoModelForSequenceClassification.from_pretrained(base).
            using torch.nn.Module net = SequenceClassificationModel.IsClassificationFolder(modelDir) ? SequenceClassificationModel.Load(modelDir)
                : summary.Config.TaskType == "SEQ_CLS" && summary.OtherTensors.TryGetValue("score.weight", out var head)
                    ? SequenceClassificationModel.FromCausalLM(modelDir, (int)head[0])
                    : CausalLanguageModel.Load(modelDir);
            var lora = LoraModel.FromPretrained(net, adapterDir);
            var config = lora.Configs[lora.ActiveAdapter];
            var adapted = lora.Layers.Count;
            var adapterParams = lora.AdapterStateDict().Values.Sum(t => t.numel());
            lora.MergeAndUnload();
            if (net is SequenceClassificationModel scm) scm.SaveHf(outDir);
            else ((CausalLanguageModel)net).SaveHf(outDir);
            // Tokenizer and generation files travel with the weights.
            var copied = new List<string>();
            foreach (var file in Directory.EnumerateFiles(modelDir))
            {
                var name = Path.GetFileName(file);
                if (name is CausalLanguageModel.WeightsFileName or CausalLanguageModel.ConfigFileName || name.StartsWith('.')) continue;
                File.Copy(file, Path.Combine(outDir, name), overwrite: true);
                copied.Add(name);
            }
            Console.Error.WriteLine($"merged {adapted} adapted modules (r = {config.R}{(config.UseDora ? ", DoRA" : "")}) into {Path.GetFullPath(outDir)}");
            parse.InvocationConfiguration.Output.WriteLine(new JsonObject
            {
                ["model"] = Path.GetFullPath(modelDir),
                ["adapter"] = Path.GetFullPath(adapterDir),
                ["out"] = Path.GetFullPath(outDir),
                ["architecture"] = net is SequenceClassificationModel s ? s.Architecture : ((CausalLanguageModel)net).Config.ModelType,
                ["adapted_modules"] = adapted,
                ["adapter_params"] = adapterParams,
                ["r"] = config.R,
                ["use_dora"] = config.UseDora,
                ["copied_files"] = new JsonArray(copied.Select(n => (JsonNode)n).ToArray()),
            }.ToJsonString());
            return 0;
        });
        return command;
    }

    /// <summary><c>farabi lora bench</c>: LoRA vs full fine-tuning step time and peak memory on a ~20M GPT.</summary>
    static Command CreateBench()
    {
        var method = new Option<string>("--method") { Description = "all: each method in its own process, alternating, then ratios; or one of full, lora, dora in this process.", DefaultValueFactory = _ => "all" };
        method.AcceptOnlyFromAmong("all", "full", "lora", "dora");
        var steps = new Option<int>("--steps") { Description = "Timed steps per method and round (after one warm-up step).", DefaultValueFactory = _ => 5 };
        var rounds = new Option<int>("--rounds") { Description = "With --method all: how many times each method runs, alternating (the best median counts).", DefaultValueFactory = _ => 2 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 8 };
        var seq = new Option<int>("--seq") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 128 };
        var rank = new Option<int>("--rank") { Description = "LoRA rank.", DefaultValueFactory = _ => 8 };
        var targets = new Option<string[]>("--targets") { Description = "LoRA target modules.", DefaultValueFactory = _ => ["c_attn"], AllowMultipleArgumentsPerToken = true };
        var tiny = new Option<bool>("--tiny") { Description = "A 2-block 64-wide model instead of the 20M one (smoke test)." };
        var output = new Option<string?>("--out") { Description = "Also write the JSON result to this file (e.g. bench/out/lora.json)." };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads in each measuring process (default: libtorch's choice)." };
        var command = new Command("bench", "Step time and peak memory of LoRA vs full fine-tuning on a ~20M-parameter GPT (ratios).")
        {
            method, steps, rounds, batch, seq, rank, targets, tiny, output, threads,
        };
        command.SetAction(parse =>
        {
            var config = parse.GetValue(tiny)
                ? new Gpt2Config { VocabSize = 512, NPositions = 64, NEmbd = 64, NLayer = 2, NHead = 2, ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0 }
                : FineTuneBenchmark.Model20M;
            var (s, b, t, r) = (parse.GetValue(steps), parse.GetValue(batch), parse.GetValue(seq), parse.GetValue(rank));
            if (parse.GetValue(tiny)) t = Math.Min(t, 32);
            var tg = parse.GetValue(targets)!;
            var m = parse.GetValue(method)!;
            JsonObject result;
            if (parse.GetValue(threads) is int n && n < 1) throw new UserError($"--threads must be at least 1, got {n}.");
            if (m != "all")
            {
                if (parse.GetValue(threads) is int count) Farabi.Training.TorchThreads.Set(count);
                // One method in this process: its peak RSS is what this method costs (plus the runtime's baseline).
                _ = torch.get_num_threads(); // libtorch loaded: its libraries belong to the baseline
                var baseline = Memory.CurrentRssMb();
                using var bar = new ProgressBar($"{m} steps", s + 1);
                var run = FineTuneBenchmark.Run(m, config, s, b, t, r, tg, progress: (i, loss) => bar.Report(i, $"loss {loss:F3}"));
                bar.Dispose();
                result = new JsonObject
                {
                    ["method"] = run.Method,
                    ["trainable_params"] = run.TrainableParameters,
                    ["total_params"] = run.TotalParameters,
                    ["step_ms"] = Math.Round(run.MedianStepMs, 1),
                    ["step_ms_all"] = new JsonArray(run.StepMs.Select(x => (JsonNode)Math.Round(x, 1)).ToArray()),
                    ["peak_mb"] = Math.Round(Memory.PeakRssMb(), 1),
                    ["baseline_mb"] = Math.Round(baseline, 1),
                    ["threads"] = torch.get_num_threads(),
                    ["first_loss"] = Math.Round(run.FirstLoss, 4),
                    ["last_loss"] = Math.Round(run.LastLoss, 4),
                };
            }
            else
            {
                var runs = new List<JsonObject>();
                for (var round = 0; round < Math.Max(1, parse.GetValue(rounds)); round++)
                    foreach (var each in new[] { "full", "lora" })
                        runs.Add(RunChild(each, s, b, t, r, tg, parse.GetValue(tiny), parse.GetValue(threads)));
                JsonObject Best(string name)
                {
                    var mine = runs.Where(x => x["method"]!.GetValue<string>() == name).ToList();
                    var best = (JsonObject)mine.OrderBy(x => x["step_ms"]!.GetValue<double>()).First().DeepClone();
                    best["peak_mb"] = mine.Max(x => x["peak_mb"]!.GetValue<double>());
                    best["step_ms_rounds"] = new JsonArray(mine.Select(x => (JsonNode)x["step_ms"]!.GetValue<double>()).ToArray());
                    return best;
                }
                var full = Best("full");
                var lora = Best("lora");
                double V(JsonObject o, string k) => o[k]!.GetValue<double>();
                var table = new TextTable("method", "trainable", "total", "step ms", "peak MB", "peak-baseline MB");
                foreach (var o in new[] { full, lora })
                    table.Add(o["method"]!.GetValue<string>(), o["trainable_params"]!.GetValue<long>(), o["total_params"]!.GetValue<long>(), V(o, "step_ms"), V(o, "peak_mb"), V(o, "peak_mb") - V(o, "baseline_mb"));
                Console.Error.Write(table.ToText());
                result = new JsonObject
                {
                    ["model"] = $"gpt2 n_embd={config.NEmbd} n_layer={config.NLayer} vocab={config.VocabSize}",
                    ["batch"] = b,
                    ["seq"] = t,
                    ["rank"] = r,
                    ["targets"] = new JsonArray(tg.Select(x => (JsonNode)x).ToArray()),
                    ["threads"] = full["threads"]?.GetValue<int>(), // the parent never loads libtorch: the children measure
                    ["results"] = new JsonArray(full, lora),
                    ["step_time_ratio_lora_over_full"] = Math.Round(V(lora, "step_ms") / V(full, "step_ms"), 3),
                    ["peak_memory_ratio_lora_over_full"] = Math.Round(V(lora, "peak_mb") / V(full, "peak_mb"), 3),
                    ["peak_above_baseline_ratio_lora_over_full"] = Math.Round((V(lora, "peak_mb") - V(lora, "baseline_mb")) / (V(full, "peak_mb") - V(full, "baseline_mb")), 3),
                    ["trainable_ratio_lora_over_full"] = Math.Round((double)lora["trainable_params"]!.GetValue<long>() / full["trainable_params"]!.GetValue<long>(), 5),
                };
            }
            var text = result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            if (parse.GetValue(output) is { } path) AtomicFile.WriteText(path, text + "\n");
            parse.InvocationConfiguration.Output.WriteLine(text);
            return 0;
        });
        return command;
    }

    /// <summary>Runs one benchmark method in a fresh process of this tool, so its peak memory is its own.</summary>
    static JsonObject RunChild(string method, int steps, int batch, int seq, int rank, string[] targets, bool tiny, int? threads)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot locate this process's executable.");
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") psi.ArgumentList.Add(typeof(LoraCommands).Assembly.Location);
        foreach (var a in new[] { "lora", "bench", "--method", method, "--steps", $"{steps}", "--batch", $"{batch}", "--seq", $"{seq}", "--rank", $"{rank}", "--targets" })
            psi.ArgumentList.Add(a);
        foreach (var t in targets) psi.ArgumentList.Add(t);
        if (tiny) psi.ArgumentList.Add("--tiny");
        if (threads is int n) { psi.ArgumentList.Add("--threads"); psi.ArgumentList.Add($"{n}"); }
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the benchmark child process.");
        var stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"The {method} benchmark process failed with exit code {child.ExitCode}.");
        return JsonNode.Parse(stdout)!.AsObject();
    }
}

/// <summary>This process's resident memory, from Linux's /proc (Process's counters elsewhere).</summary>
static class Memory
{
    public static double PeakRssMb() => ReadStatusKb("VmHWM:") is { } kb ? kb / 1024.0 : Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

    public static double CurrentRssMb() => ReadStatusKb("VmRSS:") is { } kb ? kb / 1024.0 : Process.GetCurrentProcess().WorkingSet64 / 1048576.0;

    static long? ReadStatusKb(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? null : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}

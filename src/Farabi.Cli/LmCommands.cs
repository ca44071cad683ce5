using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Generation;
using Farabi.IO;
using Farabi.Models;
using Farabi.Tokenizers;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi lm</c>: transformer language models. One method per verb; a new verb is one more method and
/// one more entry in <see cref="Create"/>.
/// </summary>
static class LmCommands
{
    public static Command Create()
    {
        var lm = new Command("lm", "Transformer language models (GPT-2, LLaMA): sample, import llama2.c checkpoints, benchmark generation.");
        foreach (var verb in new[] { LmTrainCommands.CreateTrain(), LmTrainCommands.CreateEval(), Sample(), ImportLlama2c(), BenchGenerate() }) lm.Subcommands.Add(verb);
        return lm;
    }

    /// <summary>--threads: torch's intra-op threads. One token at a time is many small kernels, where extra
    /// threads mostly wait for each other (and on a shared machine, for the other jobs).</summary>
    static Option<int> ThreadsOption() => new("--threads") { Description = "CPU threads for torch (0 = torch's default).", DefaultValueFactory = _ => 0 };

    static void ApplyThreads(int threads)
    {
        if (threads < 0) throw new UserError($"--threads must be 0 (default) or positive; got {threads}.");
        Farabi.Native.GlibcxxCompat.EnsureLoadable(); // before the first touch of torch
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
    }

    // ---------------------------------------------------------------- sample

    static Command Sample()
    {
        var model = new Option<string>("--model") { Description = "Model folder (HF style: config.json + model.safetensors), checkpoint folder, or run folder (its best checkpoint).", Required = true };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Prompt as a JSON array of token ids, e.g. \"[1]\" (default: the model's bos_token_id)." };
        var promptText = new Option<string?>("--prompt") { Description = "Prompt as text, encoded with the model's tokenizer (farabi_tokenizer.json beside the weights)." };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy; higher is more random.", DefaultValueFactory = _ => 1.0 };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "The most tokens to generate.", DefaultValueFactory = _ => 100 };
        var topK = new Option<int>("--top-k") { Description = "Keep only the k most likely tokens (0 = off).", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling: keep the smallest set reaching this probability (1 = off).", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<long>("--seed") { Description = "Seeds the draws.", DefaultValueFactory = _ => 1337 };
        var stopIds = new Option<string?>("--stop-ids") { Description = "JSON array of ids that end generation, e.g. \"[2]\"." };
        var noCache = new Option<bool>("--no-cache") { Description = "Re-run the whole window every step (slow; for checking)." };
        var printIds = new Option<bool>("--print-ids") { Description = "Print the prompt plus the generated ids as one JSON array on stdout." };
        var threads = ThreadsOption();
        var command = new Command("sample", "Generate token ids from a model.")
        {
            model, promptIds, promptText, temperature, maxNew, topK, topP, seed, stopIds, noCache, printIds, threads,
        };
        command.SetAction(parse =>
        {
            ApplyThreads(parse.GetValue(threads));
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var folder = LmTrainCommands.ResolveModelFolder(parse.GetValue(model)!);
            using var lm = CausalLanguageModel.Load(folder);
            var tokenizer = LmTrainCommands.TryLoadTokenizer(folder);
            var idsText = parse.GetValue(promptIds);
            var text = parse.GetValue(promptText);
            if (idsText != null && text != null) throw new UserError("give either --prompt or --prompt-ids, not both.");
            if (text != null && tokenizer == null) throw new UserError($"--prompt needs a tokenizer, and '{folder}' has no farabi_tokenizer.json; give --prompt-ids.");
            var prompt = idsText != null ? ParseIds(idsText, "--prompt-ids")
                : text != null ? tokenizer!.Encode(text)
                : lm.Config.BosTokenId is int bos ? [bos]
                : tokenizer != null ? tokenizer.Encode("\n")
                : throw new UserError("The model config has no bos_token_id; give --prompt-ids.");
            if (prompt.Length == 0) throw new UserError("the prompt is empty; give --prompt with some text or --prompt-ids.");
            if (prompt.Max() >= lm.VocabSize) throw new UserError($"prompt id {prompt.Max()} is outside the model's vocabulary of {lm.VocabSize}.");
            var options = new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNew),
                Sampling = new SamplingOptions { Temperature = parse.GetValue(temperature), TopK = parse.GetValue(topK), TopP = parse.GetValue(topP) },
                StopTokens = (parse.GetValue(stopIds) is string s ? ParseIds(s, "--stop-ids") : []).ToHashSet(),
                Seed = parse.GetValue(seed),
                UseCache = !parse.GetValue(noCache),
            };
            var asJson = parse.GetValue(printIds);
            var clock = Stopwatch.StartNew();
            // Without --print-ids the output streams as it is drawn: text through the tokenizer's streaming
            // decoder (which holds back a character until all its bytes are there), else the ids.
            Action<int>? onToken = null;
            if (!asJson && tokenizer != null)
            {
                var decode = tokenizer.CreateStreamingDecoder();
                foreach (var id in prompt) stdout.Write(decode(id));
                onToken = id => { stdout.Write(decode(id)); stdout.Flush(); };
            }
            else if (!asJson) onToken = id => { stdout.Write(id); stdout.Write(' '); stdout.Flush(); };
            var result = TokenGenerator.Generate(lm, prompt, options, onToken);
            clock.Stop();
            var generated = result.Tokens.Count - result.PromptLength;
            if (asJson) stdout.WriteLine(JsonSerializer.Serialize(result.Tokens));
            else stdout.WriteLine();
            stderr.WriteLine($"farabi lm sample: {generated} tokens in {clock.Elapsed.TotalSeconds:F2} s ({generated / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F1} tokens/s), stopped by {result.StopReason}.");
            return 0;
        });
        return command;
    }

    /// <summary>Generated tokens per second of one run.</summary>
    static double TokensPerSecond(CausalLanguageModel model, int[] prompt, GenerationOptions options)
    {
        var clock = Stopwatch.StartNew();
        var result = TokenGenerator.Generate(model, prompt, options);
        return (result.Tokens.Count - result.PromptLength) / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Parses a JSON array of non-negative integers, naming the option on error.</summary>
    internal static int[] ParseIds(string text, string option)
    {
        try
        {
            var ids = JsonSerializer.Deserialize<int[]>(text);
            if (ids != null && ids.All(i => i >= 0)) return ids;
        }
        catch (JsonException) { }
        throw new FormatException($"{option} must be a JSON array of non-negative integers such as [1]; got '{text}'.");
    }

    // ---------------------------------------------------------------- import-llama2c

    static Command ImportLlama2c()
    {
        var input = new Option<string>("--input") { Description = "llama2.c checkpoint (.bin, version-0 export, what run.c reads).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder to write config.json + model.safetensors to.", Required = true };
        var command = new Command("import-llama2c", "Convert a llama2.c checkpoint into an HF LlamaForCausalLM folder.") { input, output };
        command.SetAction(parse =>
        {
            var source = parse.GetValue(input)!;
            var target = parse.GetValue(output)!;
            using var model = Llama2cImporter.Import(source);
            model.SaveHf(target, new Dictionary<string, string> { ["source"] = "llama2.c:" + Path.GetFileName(source) });
            var c = model.LlamaConfig;
            parse.InvocationConfiguration.Error.WriteLine(
                $"farabi lm import-llama2c: {model.ParameterCount():N0} parameters, {c.NumHiddenLayers} layers, width {c.HiddenSize}, " +
                $"{c.NumAttentionHeads} heads / {c.KeyValueHeads} kv heads, vocab {c.VocabSize} -> {Path.GetFullPath(target)}");
            parse.InvocationConfiguration.Output.WriteLine(new JsonObject
            {
                ["out"] = Path.GetFullPath(target),
                ["parameters"] = model.ParameterCount(),
                ["config"] = c.ToJson(),
            }.ToJsonString());
            return 0;
        });
        return command;
    }

    // ---------------------------------------------------------------- bench-generate

    static Command BenchGenerate()
    {
        var layers = new Option<int>("--layers") { Description = "Blocks of the random model.", DefaultValueFactory = _ => 6 };
        var width = new Option<int>("--width") { Description = "Model width.", DefaultValueFactory = _ => 256 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 8 };
        var vocab = new Option<int>("--vocab") { Description = "Vocabulary size.", DefaultValueFactory = _ => 4096 };
        var promptLength = new Option<int>("--prompt-length") { Description = "Prompt tokens.", DefaultValueFactory = _ => 32 };
        var newTokens = new Option<int>("--new-tokens") { Description = "Tokens generated per run.", DefaultValueFactory = _ => 256 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per setting (the best is kept).", DefaultValueFactory = _ => 3 };
        var output = new Option<string>("--out") { Description = "JSON results file.", DefaultValueFactory = _ => "bench/out/lm-generate.json" };
        var threads = ThreadsOption();
        var command = new Command("bench-generate", "Generation tokens/s with and without the KV cache on random GPT-2 and LLaMA models.")
        {
            layers, width, heads, vocab, promptLength, newTokens, repeats, output, threads,
        };
        command.SetAction(parse =>
        {
            ApplyThreads(parse.GetValue(threads));
            var (l, w, h, v, p, n, r) = (parse.GetValue(layers), parse.GetValue(width), parse.GetValue(heads), parse.GetValue(vocab),
                parse.GetValue(promptLength), parse.GetValue(newTokens), parse.GetValue(repeats));
            if (l <= 0 || w <= 0 || h <= 0 || v <= 1 || p <= 0 || n <= 0 || r <= 0) throw new UserError("All bench-generate sizes must be positive.");
            var context = p + n;
            var configs = new CausalLanguageModelConfig[]
            {
                new Gpt2Config { VocabSize = v, NPositions = context, NEmbd = w, NLayer = l, NHead = h, ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0 }.Validate(),
                new LlamaConfig { VocabSize = v, HiddenSize = w, IntermediateSize = w * 8 / 3, NumHiddenLayers = l, NumAttentionHeads = h, NumKeyValueHeads = Math.Max(1, h / 2), MaxPositionEmbeddings = context }.Validate(),
            };
            var table = new TextTable("model", "params", "tokens/s cached", "tokens/s uncached", "speed-up");
            var rows = new JsonArray();
            var stderr = parse.InvocationConfiguration.Error;
            foreach (var config in configs)
            {
                using var model = config.CreateModel(seed: 1);
                var prompt = Enumerable.Range(0, p).Select(i => (i * 7919) % v).ToArray();
                // Cached and uncached runs alternate, so a change in machine load hits both and the ratio holds.
                var greedy = new GenerationOptions { MaxNewTokens = n, Sampling = new() { Temperature = 0 } };
                TokenGenerator.Generate(model, prompt, greedy with { MaxNewTokens = Math.Min(n, 8) }); // warm-up
                TokenGenerator.Generate(model, prompt, greedy with { MaxNewTokens = Math.Min(n, 8), UseCache = false });
                stderr.WriteLine($"bench-generate: {config.ModelType} ...");
                double cached = 0, uncached = 0;
                for (var i = 0; i < r; i++)
                {
                    cached = Math.Max(cached, TokensPerSecond(model, prompt, greedy));
                    uncached = Math.Max(uncached, TokensPerSecond(model, prompt, greedy with { UseCache = false }));
                }
                table.Add(config.ModelType, model.ParameterCount().ToString("N0"), cached.ToString("F1"), uncached.ToString("F1"), $"{cached / uncached:F2}x");
                rows.Add(new JsonObject
                {
                    ["model"] = config.ModelType, ["parameters"] = model.ParameterCount(),
                    ["tokens_per_second_cached"] = Math.Round(cached, 2), ["tokens_per_second_uncached"] = Math.Round(uncached, 2),
                    ["speedup"] = Math.Round(cached / uncached, 3), ["config"] = config.ToJson(),
                });
            }
            var result = new JsonObject
            {
                ["benchmark"] = "lm-generate", ["date_utc"] = DateTime.UtcNow.ToString("O"),
                ["prompt_tokens"] = p, ["new_tokens"] = n, ["repeats"] = r, ["decoding"] = "greedy", ["threads"] = TorchSharp.torch.get_num_threads(),
                ["results"] = rows,
            };
            var outPath = parse.GetValue(output)!;
            AtomicFile.WriteText(outPath, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            var stdout = parse.InvocationConfiguration.Output;
            stdout.WriteLine($"Generation, {p}-token prompt + {n} new tokens, greedy, best of {r}:");
            stdout.Write(table.ToText());
            stdout.WriteLine($"JSON: {Path.GetFullPath(outPath)}");
            return 0;
        });
        return command;
    }
}

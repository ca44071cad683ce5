using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Data;
using Farabi.IO;
using Farabi.Models;
using Farabi.Tokenizers;
using static TorchSharp.torch;

namespace Farabi.Training;

/// <summary>
/// A training checkpoint is a folder that is first of all a Hugging Face model folder (<c>model.safetensors</c> +
/// <c>config.json</c>, loadable by <see cref="CausalLanguageModel.Load"/> or <c>from_pretrained</c>), plus
/// <c>optimizer.safetensors</c> (AdamW's <c>exp_avg/NAME</c> and <c>exp_avg_sq/NAME</c>),
/// <c>trainer_state.json</c> (step, sampler and torch RNG states, best loss, options) and
/// <c>farabi_tokenizer.json</c> (how text became ids). The folder is written beside its target and swapped in by
/// renames, so a reader sees the old checkpoint or the new one, never a mixture.
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>AdamW moments.</summary>
    public const string OptimizerFileName = "optimizer.safetensors";
    /// <summary>Scalars and RNG states.</summary>
    public const string StateFileName = "trainer_state.json";
    /// <summary>The tokenizer description (<see cref="ITextTokenizer.ToJson"/>).</summary>
    public const string TokenizerFileName = "farabi_tokenizer.json";
    const string FormatName = "farabi.trainer_state";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes <paramref name="trainer"/>'s full state to <paramref name="directory"/>, replacing it atomically.</summary>
    public static void Save(string directory, Trainer trainer)
    {
        var full = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(full)!;
        var name = Path.GetFileName(full);
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        try
        {
            trainer.Model.SaveHf(staging, new Dictionary<string, string> { ["farabi.step"] = trainer.Step.ToString(CultureInfo.InvariantCulture) });
            Safetensors.Save(Path.Combine(staging, OptimizerFileName), trainer.Optimizer.StateTensors());
            AtomicFile.WriteText(Path.Combine(staging, StateFileName), StateJson(trainer).ToJsonString(Indented) + "\n");
            AtomicFile.WriteText(Path.Combine(staging, TokenizerFileName), trainer.Tokenizer.ToJsonString(Indented) + "\n");
            if (Directory.Exists(full))
            {
                var old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
                Directory.Move(full, old);
                Directory.Move(staging, full);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(staging, full);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    static JsonObject StateJson(Trainer t) => new()
    {
        ["format"] = FormatName,
        ["version"] = 1,
        ["step"] = t.Step,
        ["optimizer_step"] = t.Optimizer.StepCount,
        ["best_loss"] = double.IsFinite(t.BestLoss) ? t.BestLoss : null,
        ["best_step"] = t.BestStep,
        ["tokens_seen"] = t.TokensSeen,
        ["context_length"] = t.ContextLength,
        ["sampler_state"] = new JsonArray(t.Sampler.State.Select(w => (JsonNode?)w.ToString("x16")).ToArray()),
        ["windows_drawn"] = t.Sampler.WindowsDrawn,
        ["torch_rng_state"] = Convert.ToBase64String(TorchRngState()),
        ["options"] = JsonSerializer.SerializeToNode(t.Options, TrainerOptions.Json),
    };

    static byte[] TorchRngState()
    {
        using var state = get_rng_state();
        return state.data<byte>().ToArray();
    }

    /// <summary>
    /// The checkpoint folder <paramref name="path"/> designates: itself when it holds a trainer state, else its
    /// <c>checkpoints/latest</c> (a run folder).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">Neither exists.</exception>
    public static string Resolve(string path)
    {
        if (File.Exists(Path.Combine(path, StateFileName))) return path;
        var latest = Path.Combine(path, "checkpoints", Trainer.LatestName);
        if (File.Exists(Path.Combine(latest, StateFileName))) return latest;
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Checkpoint folder '{path}' does not exist.");
        throw new InvalidDataException($"'{path}' is neither a checkpoint folder (no {StateFileName}) nor a run folder with checkpoints/{Trainer.LatestName}.");
    }

    /// <summary>The options a checkpoint (or a run folder's latest checkpoint) was trained with.</summary>
    /// <exception cref="InvalidDataException">The trainer state is missing or malformed.</exception>
    public static TrainerOptions ReadOptions(string path) => ReadState(Resolve(path)).Options;

    static (JsonObject State, TrainerOptions Options, string Path) ReadState(string dir)
    {
        var statePath = Path.Combine(dir, StateFileName);
        try
        {
            var state = JsonNode.Parse(File.ReadAllText(statePath)) as JsonObject ?? throw new InvalidDataException($"Trainer state '{statePath}' is not a JSON object.");
            if (state["format"]?.GetValue<string>() != FormatName) throw new InvalidDataException($"Trainer state '{statePath}' lacks \"format\": \"{FormatName}\".");
            var saved = state["options"].Deserialize<TrainerOptions>(TrainerOptions.Json) ?? throw new InvalidDataException($"Trainer state '{statePath}' has no options.");
            return (state, saved, statePath);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Trainer state '{statePath}' is malformed: {e.Message}");
        }
    }

    /// <summary>See <see cref="Trainer.Resume"/>.</summary>
    public static Trainer Resume(string path, TokenFile train, TokenFile? val, TrainerOptions? options)
    {
        var dir = Resolve(path);
        var (state, saved, statePath) = ReadState(dir);
        int step, bestStep, contextLength;
        long optimizerStep, tokensSeen, windows;
        double bestLoss;
        ulong[] samplerState;
        byte[] rng;
        try
        {
            step = Required(state, "step", statePath).GetValue<int>();
            optimizerStep = Required(state, "optimizer_step", statePath).GetValue<long>();
            bestLoss = state["best_loss"]?.GetValue<double>() ?? double.PositiveInfinity;
            bestStep = Required(state, "best_step", statePath).GetValue<int>();
            tokensSeen = Required(state, "tokens_seen", statePath).GetValue<long>();
            contextLength = Required(state, "context_length", statePath).GetValue<int>();
            windows = Required(state, "windows_drawn", statePath).GetValue<long>();
            samplerState = ((JsonArray)Required(state, "sampler_state", statePath)).Select(w => ulong.Parse(w!.GetValue<string>(), NumberStyles.HexNumber)).ToArray();
            rng = Convert.FromBase64String(Required(state, "torch_rng_state", statePath).GetValue<string>());
            if (samplerState.Length != 4 || step < 0) throw new FormatException("sampler_state must hold 4 words and step must be ≥ 0");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidCastException or OverflowException)
        {
            throw new InvalidDataException($"Trainer state '{statePath}' is malformed: {e.Message}");
        }

        var tokenizerPath = Path.Combine(dir, TokenizerFileName);
        JsonObject? tokenizer = null;
        if (File.Exists(tokenizerPath))
        {
            try { tokenizer = JsonNode.Parse(File.ReadAllText(tokenizerPath)) as JsonObject; }
            catch (JsonException e) { throw new InvalidDataException($"Tokenizer description '{tokenizerPath}' is malformed: {e.Message}"); }
        }

        var model = CausalLanguageModel.Load(dir);
        Trainer? trainer = null;
        try
        {
            trainer = new Trainer(model, (options ?? saved) with { ContextLength = contextLength }, train, val, tokenizer);
            var optimizerPath = Path.Combine(dir, OptimizerFileName);
            if (!File.Exists(optimizerPath)) throw new InvalidDataException($"Checkpoint '{dir}' has no {OptimizerFileName}.");
            var moments = Safetensors.Load(optimizerPath);
            try
            {
                trainer.Optimizer.LoadState(moments, optimizerStep, optimizerPath);
            }
            finally
            {
                foreach (var t in moments.Values) t.Dispose();
            }
            trainer.Sampler.Restore(samplerState, windows);
            using (var rngState = tensor(rng, ScalarType.Byte)) set_rng_state(rngState);
            trainer.RestoreState(step, bestLoss, bestStep, tokensSeen);
            return trainer;
        }
        catch (Exception e)
        {
            trainer?.Dispose();
            model.Dispose();
            if (e is ArgumentException && e is not ArgumentOutOfRangeException)
                throw new InvalidDataException($"Checkpoint '{dir}' does not fit: {e.Message}");
            throw;
        }
    }

    static JsonNode Required(JsonObject o, string key, string path) =>
        o[key] ?? throw new InvalidDataException($"Trainer state '{path}' has no '{key}'.");
}

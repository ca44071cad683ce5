using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Farabi.Tokenizers;

namespace Farabi.Lora;

/// <summary>
/// A LoRA adapter's hyper-parameters with the field names of Hugging Face PEFT's <c>LoraConfig</c>, saved as
/// <c>adapter_config.json</c>. An adapter written here loads with <c>PeftModel.from_pretrained</c> and the other
/// way round.
/// </summary>
/// <remarks>
/// Target modules are given either as names (<see cref="TargetModules"/>: a module matches when its full path
/// equals a name or ends with <c>"." + name</c>, PEFT's rule), or as a regular expression that must match the
/// whole path (<see cref="TargetModulesPattern"/>), or as <see cref="AllLinear"/>: every linear layer (TorchSharp
/// <c>Linear</c> and GPT-2's <c>Conv1D</c>) except the output heads <c>lm_head</c> and <c>score</c>, expanded to
/// the leaf names before saving, as PEFT does.
/// </remarks>
public sealed record LoraConfig
{
    /// <summary>The <c>target_modules</c> value that selects every linear layer but the output head.</summary>
    public const string AllLinear = "all-linear";

    /// <summary>The file name inside an adapter folder.</summary>
    public const string FileName = "adapter_config.json";

    /// <summary>PEFT <c>r</c>: the rank of the update <c>B A</c>.</summary>
    public int R { get; init; } = 8;

    /// <summary>PEFT <c>lora_alpha</c>: the update is scaled by <c>alpha / r</c> (or <c>alpha / sqrt(r)</c> with rsLoRA).</summary>
    public double LoraAlpha { get; init; } = 8;

    /// <summary>PEFT <c>lora_dropout</c>: dropout on the adapter's input (training only).</summary>
    public double LoraDropout { get; init; }

    /// <summary>PEFT <c>target_modules</c> as a list of names (<c>q_proj</c>, <c>c_attn</c>, or <see cref="AllLinear"/> alone).</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = [];

    /// <summary>PEFT <c>target_modules</c> as a string: a regular expression matched against the whole module path.</summary>
    public string? TargetModulesPattern { get; init; }

    /// <summary>PEFT <c>bias</c>: <c>none</c>, <c>all</c> (every bias trains) or <c>lora_only</c> (the adapted layers' biases train).</summary>
    public string Bias { get; init; } = "none";

    /// <summary>PEFT <c>fan_in_fan_out</c>: the base weight is stored <c>[in, out]</c>. Set automatically when GPT-2's Conv1D is targeted.</summary>
    public bool FanInFanOut { get; init; }

    /// <summary>PEFT <c>modules_to_save</c>: modules (e.g. the classification head <c>score</c>) trained fully, as a per-adapter copy.</summary>
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];

    /// <summary>PEFT <c>use_rslora</c>: scale by <c>alpha / sqrt(r)</c> (Kalajdzievski 2023) instead of <c>alpha / r</c>.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>PEFT <c>use_dora</c>: weight-decomposed LoRA (Liu et al. 2024), a trained magnitude per output.</summary>
    public bool UseDora { get; init; }

    /// <summary>PEFT <c>task_type</c>: <c>CAUSAL_LM</c>, <c>SEQ_CLS</c>, ...</summary>
    public string TaskType { get; init; } = "CAUSAL_LM";

    /// <summary>PEFT <c>base_model_name_or_path</c>: where the base model came from (informative).</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>PEFT <c>inference_mode</c>: true in saved files; adapters loaded from it are frozen unless asked otherwise.</summary>
    public bool InferenceMode { get; init; }

    /// <summary>PEFT <c>rank_pattern</c>: per-module ranks, keys matched as <c>(.*\.)?KEY$</c> against the module path.</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();

    /// <summary>PEFT <c>alpha_pattern</c>: per-module alphas, matched like <see cref="RankPattern"/>.</summary>
    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    /// <summary>A config targeting the named modules with rank <paramref name="r"/> and alpha <paramref name="alpha"/>.</summary>
    public static LoraConfig For(int r, double alpha, params string[] targetModules) =>
        new() { R = r, LoraAlpha = alpha, TargetModules = targetModules };

    /// <summary>Throws <see cref="ArgumentException"/> when the values cannot describe an adapter.</summary>
    public LoraConfig Validate(string source = "LoRA config")
    {
        if (R <= 0) throw new ArgumentException($"{source}: r must be a positive integer, got {R}.");
        if (!(LoraAlpha > 0) || double.IsInfinity(LoraAlpha)) throw new ArgumentException($"{source}: lora_alpha must be positive, got {LoraAlpha}.");
        if (LoraDropout is < 0 or >= 1 || double.IsNaN(LoraDropout)) throw new ArgumentException($"{source}: lora_dropout must be in [0, 1), got {LoraDropout}.");
        if (Bias is not ("none" or "all" or "lora_only")) throw new ArgumentException($"{source}: bias must be none, all or lora_only, got '{Bias}'.");
        if (TargetModules.Count == 0 && TargetModulesPattern is null) throw new ArgumentException($"{source}: target_modules is empty; name the layers to adapt (e.g. q_proj, v_proj, c_attn) or use all-linear.");
        if (TargetModules.Count > 0 && TargetModulesPattern is not null) throw new ArgumentException($"{source}: give target_modules as a list or as a pattern, not both.");
        if (TargetModulesPattern is not null && TargetModulesPattern != AllLinear)
        {
            try { _ = new Regex(TargetModulesPattern); }
            catch (ArgumentException e) { throw new ArgumentException($"{source}: target_modules '{TargetModulesPattern}' is not a valid regular expression: {e.Message}"); }
        }
        foreach (var (k, v) in RankPattern) if (v <= 0) throw new ArgumentException($"{source}: rank_pattern['{k}'] must be positive, got {v}.");
        return this;
    }

    /// <summary>Whether the module at <paramref name="path"/> is a target (PEFT's <c>check_target_module_exists</c>).</summary>
    public bool IsTarget(string path)
    {
        if (TargetModulesPattern is { } pattern && pattern != AllLinear)
            return Regex.IsMatch(path, "^(?:" + pattern + ")$");
        return TargetModules.Any(t => path == t || path.EndsWith("." + t, StringComparison.Ordinal));
    }

    /// <summary>Whether this config asks for every linear layer.</summary>
    public bool TargetsAllLinear => TargetModulesPattern == AllLinear || (TargetModules.Count == 1 && TargetModules[0] == AllLinear);

    /// <summary>The rank for the module at <paramref name="path"/> (<see cref="RankPattern"/> first, then <see cref="R"/>).</summary>
    public int RankFor(string path) => Lookup(RankPattern, path) ?? R;

    /// <summary>The alpha for the module at <paramref name="path"/> (<see cref="AlphaPattern"/> first, then <see cref="LoraAlpha"/>).</summary>
    public double AlphaFor(string path) => Lookup(AlphaPattern, path) ?? LoraAlpha;

    static T? Lookup<T>(IReadOnlyDictionary<string, T> pattern, string path) where T : struct
    {
        foreach (var (key, value) in pattern)
            if (Regex.IsMatch(path, "^(?:.*\\.)?(?:" + key + ")$")) return value;
        return null;
    }

    /// <summary>The <c>adapter_config.json</c> object, with PEFT's field names (and its defaults for fields Farabi does not use).</summary>
    public JsonObject ToJson()
    {
        JsonNode? targets = TargetModulesPattern is { } p && p != AllLinear
            ? JsonValue.Create(p)
            : new JsonArray(TargetModules.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
        JsonNode? toSave = ModulesToSave.Count == 0 ? null : new JsonArray(ModulesToSave.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
        var ranks = new JsonObject();
        foreach (var (k, v) in RankPattern) ranks[k] = v;
        var alphas = new JsonObject();
        foreach (var (k, v) in AlphaPattern) alphas[k] = v;
        return new JsonObject
        {
            ["alpha_pattern"] = alphas,
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = Bias,
            ["fan_in_fan_out"] = FanInFanOut,
            ["inference_mode"] = InferenceMode,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = LoraAlpha == Math.Floor(LoraAlpha) && Math.Abs(LoraAlpha) < 1e9 ? JsonValue.Create((long)LoraAlpha) : JsonValue.Create(LoraAlpha),
            ["lora_dropout"] = LoraDropout,
            ["modules_to_save"] = toSave,
            ["peft_type"] = "LORA",
            ["r"] = R,
            ["rank_pattern"] = ranks,
            ["revision"] = null,
            ["target_modules"] = targets,
            ["task_type"] = TaskType,
            ["use_dora"] = UseDora,
            ["use_rslora"] = UseRsLora,
        };
    }

    /// <summary>Writes <c>adapter_config.json</c> (indented, like PEFT) to <paramref name="path"/> atomically.</summary>
    public void Save(string path) =>
        AtomicFile.WriteText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>Reads an <c>adapter_config.json</c>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FormatException">Not JSON, or a field of the wrong type; the message names the file and the key.</exception>
    /// <exception cref="NotSupportedException">Not a LoRA adapter, or a PEFT option Farabi does not implement.</exception>
    public static LoraConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Adapter config '{path}' does not exist.", path);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new FormatException($"Adapter config '{path}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"Adapter config '{path}' is not valid JSON: {e.Message}");
        }
        return FromJson(json, path);
    }

    /// <summary>Parses an <c>adapter_config.json</c> object; <paramref name="source"/> names it in errors.</summary>
    public static LoraConfig FromJson(JsonObject json, string source = FileName)
    {
        var peftType = Get<string>(json, "peft_type", source, null)
            ?? throw new FormatException($"Adapter config '{source}' has no peft_type.");
        if (peftType != "LORA")
            throw new NotSupportedException($"Adapter config '{source}' has peft_type '{peftType}'; Farabi reads LORA adapters only.");
        var d = new LoraConfig();
        if (json.TryGetPropertyValue("layers_to_transform", out var ltt) && ltt is not null)
            throw new NotSupportedException($"Adapter config '{source}': layers_to_transform is set; Farabi adapts whole target_modules only.");
        if (json.TryGetPropertyValue("init_lora_weights", out var init) && init is JsonValue v && v.TryGetValue<string>(out var initName) && initName != "gaussian")
            throw new NotSupportedException($"Adapter config '{source}': init_lora_weights '{initName}' (e.g. PiSSA/LoftQ) changes the base weights; Farabi reads plain LoRA adapters.");

        IReadOnlyList<string> targets = [];
        string? pattern = null;
        if (json.TryGetPropertyValue("target_modules", out var t) && t is not null)
        {
            if (t is JsonArray arr) targets = arr.Select((n, i) => n is JsonValue jv && jv.TryGetValue<string>(out var s) ? s
                : throw new FormatException($"Adapter config '{source}': target_modules[{i}] should be a string, got {n?.ToJsonString() ?? "null"}.")).ToArray();
            else if (t is JsonValue sv && sv.TryGetValue<string>(out var s)) pattern = s;
            else throw new FormatException($"Adapter config '{source}': target_modules should be a list of names or a pattern string, got {t.ToJsonString()}.");
        }
        return new LoraConfig
        {
            R = GetInt(json, "r", source, d.R),
            LoraAlpha = Get(json, "lora_alpha", source, d.LoraAlpha),
            LoraDropout = Get(json, "lora_dropout", source, d.LoraDropout),
            TargetModules = targets,
            TargetModulesPattern = pattern,
            Bias = Get(json, "bias", source, d.Bias)!,
            FanInFanOut = Get(json, "fan_in_fan_out", source, d.FanInFanOut),
            ModulesToSave = GetStrings(json, "modules_to_save", source),
            UseRsLora = Get(json, "use_rslora", source, d.UseRsLora),
            UseDora = Get(json, "use_dora", source, d.UseDora),
            TaskType = Get<string>(json, "task_type", source, null) ?? d.TaskType,
            BaseModelNameOrPath = Get<string>(json, "base_model_name_or_path", source, null),
            InferenceMode = Get(json, "inference_mode", source, d.InferenceMode),
            RankPattern = GetMap(json, "rank_pattern", source, n => (int)n),
            AlphaPattern = GetMap(json, "alpha_pattern", source, n => n),
        }.ValidateAsFile(source);
    }

    LoraConfig ValidateAsFile(string source)
    {
        try { return Validate($"Adapter config '{source}'"); }
        catch (ArgumentException e) { throw new FormatException(e.Message); }
    }

    static T? Get<T>(JsonObject json, string key, string source, T? fallback)
    {
        if (!json.TryGetPropertyValue(key, out var node) || node == null) return fallback;
        try { return node.GetValue<T>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            var kind = typeof(T) == typeof(double) ? "number" : typeof(T) == typeof(bool) ? "boolean" : "string";
            throw new FormatException($"Adapter config '{source}': field '{key}' should be a {kind}, got {node.ToJsonString()}.");
        }
    }

    static int GetInt(JsonObject json, string key, string source, int fallback)
    {
        var d = Get(json, key, source, (double)fallback);
        if (d != Math.Floor(d) || d < 0 || d > int.MaxValue)
            throw new FormatException($"Adapter config '{source}': field '{key}' should be a non-negative integer, got {d}.");
        return (int)d;
    }

    static string[] GetStrings(JsonObject json, string key, string source)
    {
        if (!json.TryGetPropertyValue(key, out var node) || node == null) return [];
        if (node is not JsonArray arr) throw new FormatException($"Adapter config '{source}': field '{key}' should be a list of strings, got {node.ToJsonString()}.");
        return arr.Select((n, i) => n is JsonValue jv && jv.TryGetValue<string>(out var s) ? s
            : throw new FormatException($"Adapter config '{source}': {key}[{i}] should be a string, got {n?.ToJsonString() ?? "null"}.")).ToArray();
    }

    static Dictionary<string, T> GetMap<T>(JsonObject json, string key, string source, Func<double, T> convert)
    {
        var map = new Dictionary<string, T>();
        if (!json.TryGetPropertyValue(key, out var node) || node == null) return map;
        if (node is not JsonObject obj) throw new FormatException($"Adapter config '{source}': field '{key}' should be an object of numbers, got {node.ToJsonString()}.");
        foreach (var (k, v) in obj)
        {
            if (v is not JsonValue jv || !jv.TryGetValue<double>(out var d))
                throw new FormatException($"Adapter config '{source}': {key}['{k}'] should be a number, got {v?.ToJsonString() ?? "null"}.");
            map[k] = convert(d);
        }
        return map;
    }
}

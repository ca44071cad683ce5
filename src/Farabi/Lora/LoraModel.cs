using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Farabi.IO;
using Farabi.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Lora;

/// <summary>
/// LoRA adapters injected into a model in place (PEFT's <c>LoraModel</c> / <c>PeftModel</c>): target layers are
/// wrapped by <see cref="LoraLayer"/>s, <c>modules_to_save</c> by <see cref="ModulesToSaveWrapper"/>s, and only
/// the active adapter's parameters train. The model keeps computing through its own <c>forward</c>; its
/// <c>parameters()</c> now include the adapters, so any optimizer loop over <c>requires_grad</c> parameters
/// trains exactly the adapter.
/// </summary>
/// <example>
/// <code>
/// var lora = LoraModel.Inject(gpt2, LoraConfig.For(r: 8, alpha: 16, "c_attn"));
/// Console.WriteLine($"{lora.TrainableParameters} / {lora.TotalParameters}");
/// // ... train gpt2 with an optimizer over gpt2.parameters().Where(p =&gt; p.requires_grad) ...
/// lora.SaveAdapter("adapter/");                  // adapter_config.json + adapter_model.safetensors (PEFT)
/// var merged = (Gpt2LMHeadModel)lora.MergeAndUnload(); merged.SaveHf("merged/");
/// </code>
/// </example>
public sealed class LoraModel
{
    /// <summary>The prefix PEFT puts before every module path in <c>adapter_model.safetensors</c>.</summary>
    public const string KeyPrefix = "base_model.model.";

    /// <summary>The weights file inside an adapter folder.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    static readonly ConditionalWeakTable<nn.Module, LoraModel> owners = new();
    static readonly HashSet<string> WrapperSegments = ["base_layer", "lora_A", "lora_B", "lora_dropout", "lora_magnitude_vector",
        "lora_embedding_A", "lora_embedding_B", "modules_to_save", "original_module"];
    static readonly string[] AdapterSegments = ["lora_A", "lora_B", "lora_magnitude_vector", "lora_embedding_A", "lora_embedding_B", "modules_to_save"];
    static readonly HashSet<string> OutputHeads = ["lm_head", "score", "classifier"];

    readonly Dictionary<string, LoraConfig> configs = new(StringComparer.Ordinal);
    readonly Dictionary<string, LoraLayer> layers = new(StringComparer.Ordinal);
    readonly Dictionary<string, ModulesToSaveWrapper> saved = new(StringComparer.Ordinal);
    readonly HashSet<string> frozen = new(StringComparer.Ordinal);
    readonly Dictionary<Parameter, bool> originalRequiresGrad = new(ReferenceEqualityComparer.Instance);
    bool unloaded;
    bool disabled;

    LoraModel(nn.Module model)
    {
        Model = model;
        foreach (var p in model.parameters()) originalRequiresGrad[p] = p.requires_grad;
    }

    /// <summary>The model carrying the adapters (the same object that was injected).</summary>
    public nn.Module Model { get; }

    /// <summary>The adapter the forward pass uses and training updates.</summary>
    public string ActiveAdapter { get; private set; } = "";

    /// <summary>Every adapter's configuration by name (target modules expanded, as saved).</summary>
    public IReadOnlyDictionary<string, LoraConfig> Configs => configs;

    /// <summary>The adapted layers by module path.</summary>
    public IReadOnlyDictionary<string, LoraLayer> Layers => layers;

    /// <summary>The <c>modules_to_save</c> wrappers by module path.</summary>
    public IReadOnlyDictionary<string, ModulesToSaveWrapper> SavedModules => saved;

    /// <summary>Values that train (the active adapter, its saved modules and, per <c>bias</c>, biases).</summary>
    public long TrainableParameters => Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    /// <summary>All values of the model, adapters included (PEFT's "all params").</summary>
    public long TotalParameters => Model.parameters().Sum(p => p.numel());

    /// <summary>The <see cref="LoraModel"/> carrying adapters on <paramref name="model"/>, or null.</summary>
    public static LoraModel? Of(nn.Module model) => owners.TryGetValue(model, out var lora) ? lora : null;

    /// <summary>
    /// Wraps the layers of <paramref name="model"/> that <paramref name="config"/> targets with adapter
    /// <paramref name="adapterName"/> (seeded by <paramref name="seed"/>) and freezes everything else.
    /// </summary>
    /// <exception cref="ArgumentException">The model already has adapters, or the config selects no module.</exception>
    public static LoraModel Inject(nn.Module model, LoraConfig config, string adapterName = "default", long seed = 0)
    {
        if (Of(model) != null) throw new ArgumentException("The model already carries LoRA adapters; add another with AddAdapter on its LoraModel.");
        var lora = new LoraModel(model);
        lora.AddAdapter(adapterName, config, seed);
        owners.Add(model, lora);
        return lora;
    }

    /// <summary>
    /// Loads a PEFT adapter folder onto <paramref name="model"/> as adapter <paramref name="adapterName"/> and
    /// makes it active. Unless <paramref name="isTrainable"/>, its parameters stay frozen (PEFT's default).
    /// If loading fails the model is left as it was.
    /// </summary>
    public static LoraModel FromPretrained(nn.Module model, string directory, string adapterName = "default", bool isTrainable = false)
    {
        var existing = Of(model);
        if (existing != null)
        {
            existing.LoadAdapter(directory, adapterName, isTrainable);
            existing.SetAdapter(adapterName);
            return existing;
        }
        var lora = new LoraModel(model);
        try
        {
            lora.LoadAdapter(directory, adapterName, isTrainable);
        }
        catch
        {
            lora.UnloadCore(null);
            throw;
        }
        owners.Add(model, lora);
        lora.SetAdapter(adapterName);
        return lora;
    }

    void ThrowIfUnloaded()
    {
        if (unloaded) throw new InvalidOperationException("The adapters were unloaded from this model; inject again to add new ones.");
    }

    Dictionary<string, nn.Module> Modules()
    {
        var map = new Dictionary<string, nn.Module>(StringComparer.Ordinal) { [""] = Model };
        foreach (var (name, m) in Model.named_modules())
            if (name.Length > 0) map[name] = m;
        return map;
    }

    static bool InsideWrapper(string path) => path.Split('.').Any(WrapperSegments.Contains);

    static bool IsLinear(nn.Module m) => m is Linear or Conv1D || m is LoraLinear;

    static string Leaf(string path) => path[(path.LastIndexOf('.') + 1)..];

    static string ParentPath(string path) => path.LastIndexOf('.') is var i and >= 0 ? path[..i] : "";

    static bool Matches(IEnumerable<string> names, string path) => names.Any(n => path == n || path.EndsWith("." + n, StringComparison.Ordinal));

    /// <summary>
    /// Adds adapter <paramref name="name"/> with <paramref name="config"/>. The first adapter becomes active;
    /// later ones are frozen until <see cref="SetAdapter"/> selects them (PEFT's behaviour).
    /// </summary>
    public void AddAdapter(string name, LoraConfig config, long seed = 0)
    {
        ThrowIfUnloaded();
        if (string.IsNullOrEmpty(name) || name.Contains('.')) throw new ArgumentException($"Adapter name '{name}' must be non-empty and contain no '.'.");
        if (configs.ContainsKey(name)) throw new ArgumentException($"The model already has an adapter named '{name}'.");
        config.Validate();
        if (layers.Values.Any(l => l.IsMerged)) throw new InvalidOperationException("Unmerge the adapters before adding another.");

        var modules = Modules();
        var targets = new List<(string Path, nn.Module Module)>();
        var toSave = new List<(string Path, nn.Module Module)>();
        foreach (var (path, m) in modules)
        {
            if (path.Length == 0 || InsideWrapper(path)) continue;
            if (Matches(config.ModulesToSave, path)) { toSave.Add((path, m)); continue; }
            var isTarget = config.TargetsAllLinear ? IsLinear(m) && !OutputHeads.Contains(Leaf(path)) : config.IsTarget(path);
            if (!isTarget) continue;
            if (m is not (LoraLayer or Linear or Conv1D or Embedding))
                throw new NotSupportedException($"LoRA target '{path}' is a {m.GetType().Name}; Farabi adapts Linear, Conv1D and Embedding layers (name the layers inside it).");
            targets.Add((path, m));
        }
        if (targets.Count == 0)
        {
            var linear = modules.Where(kv => IsLinear(kv.Value) || kv.Value is Embedding).Select(kv => Leaf(kv.Key)).Distinct().Take(8);
            var wanted = config.TargetModulesPattern ?? string.Join(", ", config.TargetModules);
            throw new ArgumentException($"target_modules '{wanted}' match no layer of this {Model.GetType().Name}; its layers are named {string.Join(", ", linear)}.");
        }
        foreach (var missing in config.ModulesToSave.Where(s => !toSave.Any(t => t.Path == s || t.Path.EndsWith("." + s, StringComparison.Ordinal))))
            throw new ArgumentException($"modules_to_save names '{missing}', which this {Model.GetType().Name} does not have.");
        if (config.UseDora && targets.Any(t => t.Module is Embedding or LoraEmbedding))
            throw new NotSupportedException("DoRA is implemented for linear layers; remove embeddings from target_modules or turn use_dora off.");

        // Save what was selected, as PEFT does: all-linear expands to leaf names, Conv1D implies fan_in_fan_out.
        if (config.TargetsAllLinear)
            config = config with { TargetModules = targets.Select(t => Leaf(t.Path)).Distinct().Order(StringComparer.Ordinal).ToArray(), TargetModulesPattern = null };
        if (targets.Any(t => t.Module is Conv1D || t.Module is LoraLinear { FanInFanOut: true }))
            config = config with { FanInFanOut = true };

        using var generator = new Generator((ulong)seed, CPU);
        foreach (var (path, m) in targets)
        {
            var layer = m as LoraLayer ?? Wrap(path, m, modules);
            layer.AddAdapter(name, config.RankFor(path), config.AlphaFor(path), config.LoraDropout, config.UseRsLora, config.UseDora, generator);
        }
        foreach (var (path, m) in toSave)
        {
            var wrapper = m as ModulesToSaveWrapper ?? WrapSaved(path, m, modules);
            wrapper.AddAdapter(name);
        }
        configs[name] = config;
        SetAdapter(configs.Count == 1 ? name : ActiveAdapter);
    }

    LoraLayer Wrap(string path, nn.Module m, Dictionary<string, nn.Module> modules)
    {
        LoraLayer layer = m switch
        {
            Linear l => new LoraLinear(l),
            Conv1D c => new LoraLinear(c),
            Embedding e => new LoraEmbedding(e),
            _ => throw new NotSupportedException($"Cannot adapt a {m.GetType().Name}."),
        };
        ReplaceChild(modules[ParentPath(path)], Leaf(path), layer);
        layer.AttachHook();
        layers[path] = layer;
        return layer;
    }

    ModulesToSaveWrapper WrapSaved(string path, nn.Module m, Dictionary<string, nn.Module> modules)
    {
        if (m is not nn.Module<Tensor, Tensor> single) throw new NotSupportedException($"modules_to_save '{path}' is a {m.GetType().Name}; Farabi copies Linear, Conv1D and Embedding modules.");
        var wrapper = new ModulesToSaveWrapper(single);
        ReplaceChild(modules[ParentPath(path)], Leaf(path), wrapper);
        wrapper.AttachHook();
        saved[path] = wrapper;
        return wrapper;
    }

    /// <summary>Replaces the child <paramref name="name"/> of <paramref name="parent"/> in its registry, keeping the children's order.</summary>
    static void ReplaceChild(nn.Module parent, string name, nn.Module replacement)
    {
        var children = parent.named_children().ToList();
        var index = children.FindIndex(c => c.name == name);
        if (index < 0) throw new InvalidOperationException($"'{name}' is not a registered child of {parent.GetType().Name}.");
        for (var i = index; i < children.Count; i++) parent.register_module(children[i].name, null!);
        parent.register_module(name, replacement);
        for (var i = index + 1; i < children.Count; i++) parent.register_module(children[i].name, children[i].module);
    }

    /// <summary>Makes <paramref name="name"/> the active adapter: the forward pass uses it and only its parameters train.</summary>
    public void SetAdapter(string name)
    {
        ThrowIfUnloaded();
        if (!configs.ContainsKey(name)) throw new KeyNotFoundException($"The model has no adapter '{name}'; it has {string.Join(", ", configs.Keys)}.");
        if (layers.Values.Any(l => l.IsMerged) && name != ActiveAdapter) throw new InvalidOperationException("Unmerge the adapters before switching to another.");
        foreach (var layer in layers.Values) layer.SetActiveAdapters(name);
        foreach (var wrapper in saved.Values) wrapper.ActiveAdapter = name;
        ActiveAdapter = name;
        MarkTrainable();
    }

    void MarkTrainable()
    {
        var config = configs[ActiveAdapter];
        var trainAdapter = !frozen.Contains(ActiveAdapter);
        foreach (var (n, p) in Model.named_parameters())
        {
            var segments = n.Split('.');
            var adapterIndex = Array.FindIndex(segments, s => AdapterSegments.Contains(s));
            bool train;
            if (adapterIndex >= 0) train = trainAdapter && adapterIndex + 1 < segments.Length && segments[adapterIndex + 1] == ActiveAdapter;
            else if (segments.Contains("original_module")) train = false;
            else if (config.Bias == "all") train = trainAdapter && segments[^1] == "bias";
            else if (config.Bias == "lora_only")
                train = trainAdapter && n.EndsWith(".base_layer.bias", StringComparison.Ordinal)
                    && layers.TryGetValue(n[..^".base_layer.bias".Length], out var l) && l.Adapters.ContainsKey(ActiveAdapter);
            else train = false;
            p.requires_grad = train;
        }
    }

    /// <summary>Whether the adapters are switched off (the model computes as the base model).</summary>
    public bool AdaptersDisabled
    {
        get => disabled;
        set
        {
            ThrowIfUnloaded();
            disabled = value;
            foreach (var layer in layers.Values) layer.AdaptersDisabled = value;
            foreach (var wrapper in saved.Values) wrapper.Disabled = value;
        }
    }

    /// <summary>Switches the adapters off until the returned scope is disposed (PEFT's <c>disable_adapter()</c> context).</summary>
    public IDisposable DisableAdapters()
    {
        var previous = AdaptersDisabled;
        AdaptersDisabled = true;
        return new Restore(() => AdaptersDisabled = previous);
    }

    sealed class Restore(Action action) : IDisposable
    {
        bool done;
        public void Dispose()
        {
            if (done) return;
            done = true;
            action();
        }
    }

    /// <summary>Deletes adapter <paramref name="name"/>; layers left without adapters get their base layer back.</summary>
    public void DeleteAdapter(string name)
    {
        ThrowIfUnloaded();
        if (!configs.ContainsKey(name)) throw new KeyNotFoundException($"The model has no adapter '{name}'.");
        if (configs.Count == 1) throw new InvalidOperationException($"'{name}' is the only adapter; use Unload() to remove LoRA from the model.");
        if (layers.Values.Any(l => l.IsMerged)) throw new InvalidOperationException("Unmerge the adapters before deleting one.");
        DeleteAdapterCore(name);
        if (ActiveAdapter == name) SetAdapter(configs.Keys.First());
        else MarkTrainable();
    }

    void DeleteAdapterCore(string name)
    {
        var modules = Modules();
        foreach (var (path, layer) in layers.ToList())
        {
            if (!layer.Adapters.ContainsKey(name)) continue;
            layer.DeleteAdapter(name);
            if (layer.Adapters.Count > 0) continue;
            ReplaceChild(modules[ParentPath(path)], Leaf(path), layer.Release());
            layer.Dispose();
            layers.Remove(path);
        }
        foreach (var (path, wrapper) in saved.ToList())
        {
            if (!wrapper.modules_to_save.Contains(name)) continue;
            wrapper.DeleteAdapter(name);
            if (wrapper.modules_to_save.Names.Any()) continue;
            ReplaceChild(modules[ParentPath(path)], Leaf(path), wrapper.Release(null));
            wrapper.Dispose();
            saved.Remove(path);
        }
        configs.Remove(name);
        frozen.Remove(name);
    }

    /// <summary>
    /// Adds adapter <paramref name="newName"/> combining existing ones with weights, as PEFT's
    /// <c>add_weighted_adapter</c>: <c>"cat"</c> concatenates the factors (rank = sum of ranks) so the update is
    /// exactly <c>Σ w_i s_i B_i A_i</c>; <c>"linear"</c> (same rank only) sums <c>sqrt(w_i s_i)</c>-scaled A's and
    /// B's, which keeps the rank but adds cross terms <c>B_i A_j</c>. The result has alpha = r (scale 1), no
    /// dropout change, no DoRA (refused) and no modules_to_save.
    /// </summary>
    public void AddWeightedAdapter(IEnumerable<(string Adapter, double Weight)> adapters, string newName, string combinationType = "cat")
    {
        ThrowIfUnloaded();
        var list = adapters.ToList();
        if (list.Count == 0) throw new ArgumentException("Give at least one adapter to combine.");
        if (configs.ContainsKey(newName)) throw new ArgumentException($"The model already has an adapter named '{newName}'.");
        if (combinationType is not ("linear" or "cat")) throw new ArgumentException($"Combination '{combinationType}' is not supported; use linear or cat.");
        foreach (var (a, w) in list)
        {
            if (!configs.TryGetValue(a, out var c)) throw new KeyNotFoundException($"The model has no adapter '{a}'.");
            if (c.UseDora) throw new NotSupportedException($"Adapter '{a}' uses DoRA, whose magnitudes cannot be combined linearly.");
            if (combinationType == "linear" && w < 0) throw new ArgumentException($"The linear combination takes sqrt(weight); weight {w} of '{a}' is negative (use cat).");
        }
        if (layers.Values.Any(l => l.IsMerged)) throw new InvalidOperationException("Unmerge the adapters before combining them.");

        var first = configs[list[0].Adapter];
        var rankPattern = new Dictionary<string, int>();
        int? commonRank = null;
        var plans = new List<(LoraLayer Layer, string Path, int Rank, Tensor A, Tensor B)>();
        using (no_grad())
        {
            foreach (var (path, layer) in layers)
            {
                var present = list.Where(x => layer.Adapters.ContainsKey(x.Adapter)).ToList();
                if (present.Count == 0) continue;
                Tensor a, b;
                int rank;
                if (combinationType == "cat")
                {
                    rank = present.Sum(x => layer.Adapters[x.Adapter].R);
                    a = cat(present.Select(x => layer.Factors(x.Adapter).A * (x.Weight * layer.Adapters[x.Adapter].Scaling)).ToArray(), 0);
                    b = cat(present.Select(x => layer.Factors(x.Adapter).B).ToArray(), 1);
                }
                else
                {
                    var ranks = present.Select(x => layer.Adapters[x.Adapter].R).Distinct().ToList();
                    if (ranks.Count != 1) throw new ArgumentException($"The linear combination needs adapters of one rank; '{path}' has ranks {string.Join(", ", ranks)} (use cat).");
                    rank = ranks[0];
                    a = present.Select(x => layer.Factors(x.Adapter).A * Math.Sqrt(x.Weight * layer.Adapters[x.Adapter].Scaling)).Aggregate((p, q) => p + q);
                    b = present.Select(x => layer.Factors(x.Adapter).B * Math.Sqrt(x.Weight * layer.Adapters[x.Adapter].Scaling)).Aggregate((p, q) => p + q);
                }
                plans.Add((layer, path, rank, a.DetachFromDisposeScope(), b.DetachFromDisposeScope()));
            }
        }
        commonRank = plans.GroupBy(p => p.Rank).OrderByDescending(g => g.Count()).First().Key;
        foreach (var p in plans.Where(p => p.Rank != commonRank)) rankPattern[Regex.Escape(p.Path)] = p.Rank;
        foreach (var p in plans)
        {
            p.Layer.AddAdapter(newName, p.Rank, p.Rank);
            p.Layer.SetFactors(newName, p.A, p.B);
            p.A.Dispose();
            p.B.Dispose();
        }
        configs[newName] = first with
        {
            R = commonRank.Value,
            LoraAlpha = commonRank.Value,
            UseRsLora = false,
            UseDora = false,
            TargetModules = list.SelectMany(x => configs[x.Adapter].TargetModules).Distinct().Order(StringComparer.Ordinal).ToArray(),
            TargetModulesPattern = null,
            ModulesToSave = [],
            RankPattern = rankPattern,
            AlphaPattern = rankPattern.ToDictionary(kv => kv.Key, kv => (double)kv.Value),
        };
        MarkTrainable();
    }

    /// <summary>Merges the active adapter into the base weights (outputs unchanged, no extra compute).</summary>
    public void Merge()
    {
        ThrowIfUnloaded();
        foreach (var layer in layers.Values) layer.Merge([ActiveAdapter]);
    }

    /// <summary>Undoes <see cref="Merge"/>.</summary>
    public void Unmerge()
    {
        ThrowIfUnloaded();
        foreach (var layer in layers.Values) layer.Unmerge();
    }

    /// <summary>
    /// Merges the active adapter into the base weights and removes every LoRA wrapper, returning the plain model
    /// (the same object) with its original Hugging Face parameter names; saved modules keep the active copy's
    /// weights. The LoraModel cannot be used afterwards.
    /// </summary>
    public nn.Module MergeAndUnload()
    {
        ThrowIfUnloaded();
        AdaptersDisabled = false;
        Merge();
        return UnloadCore(ActiveAdapter);
    }

    /// <summary>Removes every adapter without merging, returning the base model as it was.</summary>
    public nn.Module Unload()
    {
        ThrowIfUnloaded();
        Unmerge();
        return UnloadCore(null);
    }

    nn.Module UnloadCore(string? keepSaved)
    {
        var modules = Modules();
        foreach (var (path, layer) in layers)
        {
            ReplaceChild(modules[ParentPath(path)], Leaf(path), layer.Release());
            layer.Dispose();
        }
        foreach (var (path, wrapper) in saved)
        {
            ReplaceChild(modules[ParentPath(path)], Leaf(path), wrapper.Release(keepSaved));
            wrapper.Dispose();
        }
        layers.Clear();
        saved.Clear();
        configs.Clear();
        foreach (var p in Model.parameters())
            if (originalRequiresGrad.TryGetValue(p, out var g)) p.requires_grad = g;
        owners.Remove(Model);
        unloaded = true;
        return Model;
    }

    /// <summary>
    /// The tensors PEFT's <c>get_peft_model_state_dict</c> returns for adapter <paramref name="name"/>: keys
    /// <c>base_model.model.PATH.lora_A.weight</c> etc. without the adapter name, saved modules under their own
    /// path, and biases when <c>bias</c> is not <c>none</c>. The values are the live parameters.
    /// </summary>
    public Dictionary<string, Tensor> AdapterStateDict(string? name = null)
    {
        ThrowIfUnloaded();
        name ??= ActiveAdapter;
        if (!configs.TryGetValue(name, out var config)) throw new KeyNotFoundException($"The model has no adapter '{name}'.");
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, layer) in layers)
            if (layer.Adapters.ContainsKey(name))
                foreach (var (suffix, t) in layer.AdapterTensors(name)) result[KeyPrefix + path + "." + suffix] = t;
        foreach (var (path, wrapper) in saved)
            if (wrapper.modules_to_save.Contains(name))
                foreach (var (pn, p) in wrapper.modules_to_save[name].named_parameters()) result[KeyPrefix + path + "." + pn] = p;
        if (config.Bias != "none")
            foreach (var (n, p) in Model.named_parameters())
            {
                if (!n.EndsWith(".bias", StringComparison.Ordinal) || n.Split('.').Any(s => AdapterSegments.Contains(s) || s == "original_module")) continue;
                var inLayer = n.EndsWith(".base_layer.bias", StringComparison.Ordinal) && layers.TryGetValue(n[..^".base_layer.bias".Length], out var l) && l.Adapters.ContainsKey(name);
                if (config.Bias == "all" || inLayer) result[KeyPrefix + n] = p;
            }
        return result;
    }

    /// <summary>
    /// Writes adapter <paramref name="name"/> (default: the active one) as a PEFT folder:
    /// <c>adapter_config.json</c> and <c>adapter_model.safetensors</c>, each atomically.
    /// </summary>
    public void SaveAdapter(string directory, string? name = null, string? baseModelNameOrPath = null)
    {
        name ??= ActiveAdapter;
        var tensors = AdapterStateDict(name);
        var config = configs[name] with { InferenceMode = true };
        if (baseModelNameOrPath != null) config = config with { BaseModelNameOrPath = baseModelNameOrPath };
        Directory.CreateDirectory(directory);
        Safetensors.Save(Path.Combine(directory, WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        config.Save(Path.Combine(directory, LoraConfig.FileName));
    }

    /// <summary>
    /// Loads a PEFT adapter folder as adapter <paramref name="name"/>: the config decides which layers get an
    /// adapter, then every tensor of the file must fit one of them. Wrong ranks, missing tensors, tensors for
    /// modules the model lacks, unknown <c>peft_type</c> and malformed files are refused with a message naming
    /// the file and the key; the model is then left as it was.
    /// </summary>
    public void LoadAdapter(string directory, string name, bool isTrainable = false)
    {
        ThrowIfUnloaded();
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Adapter folder '{directory}' does not exist.");
        var configPath = Path.Combine(directory, LoraConfig.FileName);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        var config = LoraConfig.Load(configPath);
        if (!File.Exists(weightsPath))
        {
            if (File.Exists(Path.Combine(directory, "adapter_model.bin")))
                throw new NotSupportedException($"Adapter folder '{directory}' has adapter_model.bin (a pickle); Farabi reads {WeightsFileName} (PEFT writes it by default, safe_serialization=True).");
            throw new FileNotFoundException($"Adapter folder '{directory}' has no {WeightsFileName}.", weightsPath);
        }
        using var file = SafetensorsFile.Open(weightsPath);
        try
        {
            AddAdapter(name, config with { InferenceMode = !isTrainable });
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Adapter '{directory}' does not fit this model: {e.Message}");
        }
        try
        {
            LoadTensors(file, name, configPath);
        }
        catch
        {
            if (configs.Count == 1) { /* the caller unloads a fresh LoraModel */ }
            else DeleteAdapterCore(name);
            throw;
        }
        if (!isTrainable) frozen.Add(name);
        MarkTrainable();
    }

    void LoadTensors(SafetensorsFile file, string name, string configPath)
    {
        var config = configs[name];
        var expected = AdapterStateDict(name);
        var optional = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var key in expected.Keys.Where(k => k.EndsWith(".bias", StringComparison.Ordinal) && !k.Contains(".modules_to_save.")).ToList())
        {
            // Biases are optional, and PEFT may name a wrapped layer's bias with or without "base_layer".
            optional[key] = expected[key];
            optional[key.Replace(".base_layer.bias", ".bias")] = expected[key];
            expected.Remove(key);
        }
        foreach (var (path, layer) in layers)
            if (layer is LoraEmbedding && layer.Adapters.ContainsKey(name))
                optional[KeyPrefix + path + ".base_layer.weight"] = ((Embedding)layer.base_layer).weight!; // PEFT's save_embedding_layers

        var plan = new List<(string Key, Tensor Target)>();
        var unexpected = new List<string>();
        foreach (var (key, entry) in file.Entries)
        {
            if (!expected.TryGetValue(key, out var target) && !optional.TryGetValue(key, out target)) { unexpected.Add(key); continue; }
            if (!entry.Shape.SequenceEqual(target.shape))
            {
                var rankNote = key.Contains(".lora_") ? $" (r = {config.R} in '{configPath}')" : "";
                throw new InvalidDataException($"Adapter '{file.Path}': tensor '{key}' has shape [{string.Join(", ", entry.Shape)}] but the model expects [{string.Join(", ", target.shape)}]{rankNote}.");
            }
            plan.Add((key, target));
        }
        if (unexpected.Count > 0) throw new InvalidDataException(DescribeUnexpected(file.Path, unexpected, config));
        var missing = expected.Keys.Where(k => !file.Entries.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"Adapter '{file.Path}' lacks {missing.Count} tensor(s) that '{configPath}' implies: {string.Join(", ", missing.Take(4))}{(missing.Count > 4 ? ", ..." : "")}.");
        using var _ = no_grad();
        foreach (var (key, target) in plan)
        {
            using var scope = NewDisposeScope();
            target.copy_(file.Read(key));
        }
    }

    string DescribeUnexpected(string path, List<string> unexpected, LoraConfig config)
    {
        var key = unexpected[0];
        var more = unexpected.Count > 1 ? $" (and {unexpected.Count - 1} more)" : "";
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal))
            return $"Adapter '{path}': key '{key}'{more} does not start with '{KeyPrefix}', so it is not a PEFT LoRA adapter for a whole model.";
        var rest = key[KeyPrefix.Length..];
        var module = Regex.Replace(rest, @"\.(lora_A\.weight|lora_B\.weight|lora_magnitude_vector|lora_embedding_A|lora_embedding_B|weight|bias)$", "");
        var modules = Modules();
        var original = modules.ContainsKey(module) ? module : null;
        if (original == null)
            return $"Adapter '{path}' has weights for module '{module}'{more}, which this {Model.GetType().Name} does not have: the adapter was made for another base model ('{config.BaseModelNameOrPath ?? "unknown"}').";
        return $"Adapter '{path}' has tensor '{key}'{more}, which its config's target_modules / modules_to_save do not select.";
    }
}

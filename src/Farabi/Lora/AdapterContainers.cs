using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Lora;

/// <summary>
/// Modules keyed by adapter name, like PyTorch's <c>nn.ModuleDict</c> in PEFT's layers: its children appear in
/// the state dict as <c>lora_A.default.weight</c>. Adapters can be removed again, which unregisters them.
/// </summary>
public sealed class AdapterModules<T> : nn.Module where T : nn.Module
{
    readonly Dictionary<string, T> items = new(StringComparer.Ordinal);

    /// <summary>An empty container.</summary>
    public AdapterModules() : base("ModuleDict") { }

    /// <summary>The module of adapter <paramref name="name"/>.</summary>
    public T this[string name] => items[name];

    /// <summary>Whether adapter <paramref name="name"/> has a module here.</summary>
    public bool Contains(string name) => items.ContainsKey(name);

    /// <summary>The adapter names, in insertion order.</summary>
    public IEnumerable<string> Names => items.Keys;

    /// <summary>Registers <paramref name="module"/> for adapter <paramref name="name"/>.</summary>
    public void Add(string name, T module)
    {
        register_module(name, module);
        items.Add(name, module);
    }

    /// <summary>Unregisters and disposes the module of adapter <paramref name="name"/>, if any.</summary>
    public void Remove(string name)
    {
        if (!items.Remove(name, out var module)) return;
        register_module(name, null!); // TorchSharp removes a child registered as null
        module.Dispose();
    }
}

/// <summary>
/// Parameters keyed by adapter name, like PyTorch's <c>nn.ParameterDict</c> (PEFT keeps the embedding
/// adapters' factors this way: <c>lora_embedding_A.default</c>).
/// </summary>
public sealed class AdapterParameters : nn.Module
{
    /// <summary>An empty container.</summary>
    public AdapterParameters() : base("ParameterDict") { }

    /// <summary>The parameter of adapter <paramref name="name"/>.</summary>
    // Read through the registry rather than a private map: Module.to(device) replaces registered parameters.
    public Parameter this[string name] => get_parameter(name) ?? throw new KeyNotFoundException($"No adapter '{name}' here.");

    /// <summary>Whether adapter <paramref name="name"/> has a parameter here.</summary>
    public bool Contains(string name) => named_parameters(recurse: false).Any(p => p.name == name);

    /// <summary>Registers <paramref name="parameter"/> for adapter <paramref name="name"/>.</summary>
    public void Add(string name, Parameter parameter) => register_parameter(name, parameter);

    /// <summary>Unregisters and disposes the parameter of adapter <paramref name="name"/>, if any.</summary>
    public void Remove(string name)
    {
        if (!Contains(name)) return;
        var p = this[name];
        ConditionallyRegisterParameter(name, null!);
        p.Dispose();
    }
}

/// <summary>DoRA's trained magnitude, one value per output feature (PEFT: <c>lora_magnitude_vector.default.weight</c>).</summary>
public sealed class DoraMagnitude : nn.Module
{
    /// <summary>The magnitude <c>m</c>, <c>[out_features]</c>.</summary>
    public readonly Parameter weight;

    /// <summary>Wraps <paramref name="magnitude"/> as a trainable parameter.</summary>
    public DoraMagnitude(Tensor magnitude) : base(nameof(DoraMagnitude))
    {
        weight = new Parameter(magnitude, requires_grad: true);
        RegisterComponents();
    }
}

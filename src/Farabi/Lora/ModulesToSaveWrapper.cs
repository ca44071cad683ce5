using Farabi.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Lora;

/// <summary>
/// PEFT's <c>ModulesToSaveWrapper</c>: a module that trains fully (typically the classification head) keeps its
/// original as <c>original_module</c> and one trainable copy per adapter under <c>modules_to_save.NAME</c>; the
/// active adapter's copy computes the output. Its parameters are saved with the adapter under the module's
/// own path (<c>score.weight</c>).
/// </summary>
public sealed class ModulesToSaveWrapper : nn.Module<Tensor, Tensor>
{
    /// <summary>The module as it was in the base model (frozen).</summary>
    public readonly nn.Module<Tensor, Tensor> original_module;

    /// <summary>The trainable copies, one per adapter.</summary>
    public readonly AdapterModules<nn.Module<Tensor, Tensor>> modules_to_save = new();

    Action? removeHook;

    /// <summary>Wraps <paramref name="original"/> (a Linear, Conv1D or Embedding).</summary>
    public ModulesToSaveWrapper(nn.Module<Tensor, Tensor> original) : base(nameof(ModulesToSaveWrapper))
    {
        if (original is not (Linear or Conv1D or Embedding))
            throw new NotSupportedException($"modules_to_save supports Linear, Conv1D and Embedding modules; got a {original.GetType().Name}.");
        original_module = original;
        RegisterComponents();
        foreach (var p in original.parameters()) p.requires_grad = false;
    }

    /// <summary>The adapter whose copy computes the output; null uses the original.</summary>
    public string? ActiveAdapter { get; set; }

    /// <summary>When true the original module computes the output.</summary>
    public bool Disabled { get; set; }

    /// <summary>Adds a trainable copy of the original for adapter <paramref name="name"/>.</summary>
    public void AddAdapter(string name)
    {
        modules_to_save.Add(name, Copy(original_module));
        train(original_module.training);
    }

    /// <summary>Removes the copy of adapter <paramref name="name"/>.</summary>
    public void DeleteAdapter(string name) => modules_to_save.Remove(name);

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => Route(x, original_module.forward(x));

    Tensor Route(Tensor x, Tensor originalOutput) =>
        Disabled || ActiveAdapter is null || !modules_to_save.Contains(ActiveAdapter)
            ? originalOutput
            : modules_to_save[ActiveAdapter].forward(x);

    internal void AttachHook()
    {
        if (removeHook != null) return;
        var remover = original_module.register_forward_hook((_, x, y) => Route(x, y));
        removeHook = remover.remove;
    }

    /// <summary>Removes the hook and hands the original back; with <paramref name="keepAdapter"/>, the original first takes that copy's weights.</summary>
    internal nn.Module<Tensor, Tensor> Release(string? keepAdapter)
    {
        removeHook?.Invoke();
        removeHook = null;
        if (keepAdapter != null && modules_to_save.Contains(keepAdapter))
        {
            using var _ = no_grad();
            var source = modules_to_save[keepAdapter].state_dict();
            foreach (var (name, t) in original_module.state_dict()) t.copy_(source[name]);
        }
        register_module("original_module", null!);
        foreach (var name in modules_to_save.Names.ToList()) modules_to_save.Remove(name);
        return original_module;
    }

    static nn.Module<Tensor, Tensor> Copy(nn.Module<Tensor, Tensor> m)
    {
        nn.Module<Tensor, Tensor> copy = m switch
        {
            Linear l => nn.Linear(l.in_features, l.out_features, hasBias: l.bias is not null),
            Conv1D c => new Conv1D(c.weight.shape[0], c.weight.shape[1]),
            Embedding e => nn.Embedding(e.weight!.shape[0], e.weight.shape[1]),
            _ => throw new NotSupportedException($"Cannot copy a {m.GetType().Name} for modules_to_save."),
        };
        using var _ = no_grad();
        var source = m.state_dict();
        foreach (var (name, t) in copy.state_dict()) t.copy_(source[name]);
        foreach (var p in copy.parameters()) p.requires_grad = true;
        return copy;
    }
}

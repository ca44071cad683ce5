// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): a frozen weight W is adapted
// by a trained low-rank update, y = W x + (alpha / r) B A x, with A drawn like a default linear layer and B zero
// so training starts from the base model exactly. rsLoRA (Kalajdzievski 2023) scales by alpha / sqrt(r) so
// large ranks keep learning. DoRA (Liu et al. 2024) splits the adapted weight into a trained magnitude per
// output and a direction, m * (W + s B A) / ||W + s B A||, the norm taken per output row and treated as a
// constant in the backward pass (the paper's section 4.3). Names and layouts follow Hugging Face PEFT.
using Farabi.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Lora;

/// <summary>One adapter of a layer: its rank, alpha and the scale <c>s</c> applied to <c>B A</c>.</summary>
public sealed record LoraAdapterInfo(string Name, int R, double Alpha, double Scaling, double Dropout, bool UseRsLora, bool UseDora);

/// <summary>
/// The LoRA adapters of one base layer (PEFT's <c>LoraLayer</c>): the base layer is registered as
/// <c>base_layer</c> and stays frozen; each named adapter adds its own low-rank update.
/// </summary>
/// <remarks>
/// Used on its own, the layer's <see cref="forward"/> computes base + adapters. Injected into a model by
/// <see cref="LoraModel"/>, the layer takes the base layer's place in the module tree (so parameter names are
/// PEFT's: <c>c_attn.base_layer.weight</c>, <c>c_attn.lora_A.default.weight</c>) and a forward hook on the base
/// layer adds the update wherever the model calls it, since model code holds its layers in typed fields.
/// </remarks>
public abstract class LoraLayer : nn.Module<Tensor, Tensor>
{
    /// <summary>The adapted layer (PEFT <c>base_layer</c>).</summary>
    public readonly nn.Module<Tensor, Tensor> base_layer;

    private protected readonly Dictionary<string, LoraAdapterInfo> adapters = new(StringComparer.Ordinal);
    readonly List<string> merged = [];
    List<string> active = [];
    Action? removeHook;
    bool disabled;

    private protected LoraLayer(string name, nn.Module<Tensor, Tensor> baseLayer) : base(name)
    {
        base_layer = baseLayer;
    }

    /// <summary>The adapters of this layer by name.</summary>
    public IReadOnlyDictionary<string, LoraAdapterInfo> Adapters => adapters;

    /// <summary>The adapters whose updates the forward pass adds (PEFT allows several at once).</summary>
    public IReadOnlyList<string> ActiveAdapters => active;

    /// <summary>The adapters currently merged into the base weight.</summary>
    public IReadOnlyList<string> MergedAdapters => merged;

    /// <summary>Whether any adapter is merged into the base weight.</summary>
    public bool IsMerged => merged.Count > 0;

    /// <summary>When true the layer computes the base layer alone (merged adapters are unmerged first, as PEFT does).</summary>
    public bool AdaptersDisabled
    {
        get => disabled;
        set
        {
            if (value && IsMerged) Unmerge();
            disabled = value;
        }
    }

    /// <summary>Input width of the base layer (number of embeddings for an embedding).</summary>
    public abstract long InFeatures { get; }

    /// <summary>Output width of the base layer (embedding width for an embedding).</summary>
    public abstract long OutFeatures { get; }

    /// <summary>
    /// Adds adapter <paramref name="name"/> of rank <paramref name="r"/>, initialised so that it changes nothing
    /// (B = 0 for linear layers, A = 0 for embeddings, PEFT's choice), drawing from <paramref name="generator"/>.
    /// </summary>
    public void AddAdapter(string name, int r, double alpha, double dropout = 0, bool useRsLora = false, bool useDora = false, Generator? generator = null)
    {
        if (adapters.ContainsKey(name)) throw new ArgumentException($"The layer already has an adapter named '{name}'.");
        if (r <= 0) throw new ArgumentException($"LoRA rank must be positive, got {r}.");
        if (IsMerged) throw new InvalidOperationException("Unmerge the layer's adapters before adding another.");
        var scaling = useRsLora ? alpha / Math.Sqrt(r) : alpha / r;
        var info = new LoraAdapterInfo(name, r, alpha, scaling, dropout, useRsLora, useDora);
        CreateAdapter(info, generator);
        // New modules start in training mode; follow the base layer so an eval-mode model applies no adapter dropout.
        train(base_layer.training);
        adapters[name] = info;
        if (active.Count == 0) active = [name];
    }

    private protected abstract void CreateAdapter(LoraAdapterInfo info, Generator? generator);

    private protected abstract void RemoveAdapterModules(string name);

    /// <summary>Removes adapter <paramref name="name"/> and its parameters.</summary>
    public void DeleteAdapter(string name)
    {
        if (!adapters.ContainsKey(name)) throw new KeyNotFoundException($"The layer has no adapter '{name}'.");
        if (merged.Contains(name)) throw new InvalidOperationException($"Adapter '{name}' is merged; unmerge it before deleting it.");
        RemoveAdapterModules(name);
        adapters.Remove(name);
        active.Remove(name);
    }

    /// <summary>Makes <paramref name="names"/> the active adapters (names this layer lacks are ignored in the forward pass).</summary>
    public void SetActiveAdapters(params string[] names) => active = [.. names];

    /// <summary>The factors of adapter <paramref name="name"/>: A <c>[r, in]</c> and B <c>[out, r]</c> (the live parameters).</summary>
    public abstract (Tensor A, Tensor B) Factors(string name);

    /// <summary>Overwrites the factors of adapter <paramref name="name"/> with copies of <paramref name="a"/> and <paramref name="b"/>.</summary>
    public void SetFactors(string name, Tensor a, Tensor b)
    {
        var (pa, pb) = Factors(name);
        if (!pa.shape.SequenceEqual(a.shape) || !pb.shape.SequenceEqual(b.shape))
            throw new ArgumentException($"Adapter '{name}' expects A [{string.Join(", ", pa.shape)}] and B [{string.Join(", ", pb.shape)}], got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}].");
        using var _ = no_grad();
        pa.copy_(a);
        pb.copy_(b);
    }

    /// <summary>The update <c>s B A</c> of adapter <paramref name="name"/> in the layout of the base weight.</summary>
    public abstract Tensor DeltaWeight(string name);

    /// <summary>
    /// The tensors PEFT saves for adapter <paramref name="name"/>, keyed by their suffix after the module path
    /// (<c>lora_A.weight</c>, <c>lora_B.weight</c>, <c>lora_magnitude_vector</c>, <c>lora_embedding_A</c>, ...).
    /// </summary>
    public abstract IEnumerable<(string Suffix, Tensor Value)> AdapterTensors(string name);

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => Adapt(x, base_layer.forward(x));

    /// <summary>Adds the active adapters' updates to <paramref name="baseOutput"/>, the base layer's output for <paramref name="x"/>.</summary>
    public Tensor Adapt(Tensor x, Tensor baseOutput)
    {
        // Merged adapters already live in the base weight; a disabled layer is the base layer.
        if (disabled || IsMerged || active.Count == 0) return baseOutput;
        using var scope = NewDisposeScope();
        var result = baseOutput;
        foreach (var name in active)
            if (adapters.TryGetValue(name, out var info)) result = AddUpdate(info, x, baseOutput, result);
        return ReferenceEquals(result, baseOutput) ? baseOutput : result.MoveToOuterDisposeScope();
    }

    private protected abstract Tensor AddUpdate(LoraAdapterInfo info, Tensor x, Tensor baseOutput, Tensor result);

    /// <summary>Merges <paramref name="names"/> (default: the active adapters) into the base weight.</summary>
    public void Merge(IEnumerable<string>? names = null)
    {
        using var _ = no_grad();
        foreach (var name in (names ?? active).ToList())
        {
            if (!adapters.ContainsKey(name) || merged.Contains(name)) continue;
            using var scope = NewDisposeScope();
            MergeOne(adapters[name]);
            merged.Add(name);
        }
    }

    /// <summary>Subtracts every merged adapter from the base weight again, last merged first.</summary>
    public void Unmerge()
    {
        using var _ = no_grad();
        while (merged.Count > 0)
        {
            var name = merged[^1];
            using var scope = NewDisposeScope();
            UnmergeOne(adapters[name]);
            merged.RemoveAt(merged.Count - 1);
        }
    }

    private protected abstract void MergeOne(LoraAdapterInfo info);

    private protected abstract void UnmergeOne(LoraAdapterInfo info);

    /// <summary>Routes the base layer's calls through this layer's adapters (a forward hook on the base layer).</summary>
    internal void AttachHook()
    {
        if (removeHook != null) return;
        var remover = base_layer.register_forward_hook((_, x, y) => Adapt(x, y));
        removeHook = remover.remove;
    }

    /// <summary>Removes the hook and hands the base layer back, then frees the adapters.</summary>
    internal nn.Module<Tensor, Tensor> Release()
    {
        removeHook?.Invoke();
        removeHook = null;
        register_module("base_layer", null!); // so that disposing this layer leaves the base layer alive
        foreach (var name in adapters.Keys.ToList()) RemoveAdapterModules(name);
        adapters.Clear();
        return base_layer;
    }

    /// <summary>Draws A like PyTorch's default linear init, Kaiming-uniform with a = sqrt(5): U(-1/sqrt(in), 1/sqrt(in)).</summary>
    private protected static void KaimingUniform(Tensor weight, Generator? generator)
    {
        var bound = 1.0 / Math.Sqrt(weight.shape[1]);
        using var _ = no_grad();
        weight.uniform_(-bound, bound, generator);
    }
}

/// <summary>
/// LoRA on a linear layer: TorchSharp's <see cref="Linear"/> (weight <c>[out, in]</c>) or GPT-2's
/// <see cref="Conv1D"/> (weight <c>[in, out]</c>, PEFT's <c>fan_in_fan_out = true</c>). The adapter factors are
/// <c>lora_A.weight [r, in]</c> and <c>lora_B.weight [out, r]</c> in both cases; DoRA adds
/// <c>lora_magnitude_vector.weight [out]</c>.
/// </summary>
public sealed class LoraLinear : LoraLayer
{
    /// <summary>Down projections A, one per adapter.</summary>
    public readonly AdapterModules<Linear> lora_A = new();
    /// <summary>Up projections B, one per adapter.</summary>
    public readonly AdapterModules<Linear> lora_B = new();
    /// <summary>Dropout on each adapter's input.</summary>
    public readonly AdapterModules<nn.Module<Tensor, Tensor>> lora_dropout = new();
    /// <summary>DoRA magnitudes, for adapters that use DoRA.</summary>
    public readonly AdapterModules<DoraMagnitude> lora_magnitude_vector = new();

    readonly bool fanInFanOut;
    readonly long inFeatures, outFeatures;
    // The row norms of W + s B A at merge time, needed to undo a DoRA merge exactly.
    readonly Dictionary<string, Tensor> mergedNorms = new(StringComparer.Ordinal);

    /// <summary>Wraps a TorchSharp linear layer.</summary>
    public LoraLinear(Linear baseLayer) : base(nameof(LoraLinear), baseLayer)
    {
        (outFeatures, inFeatures) = (baseLayer.weight!.shape[0], baseLayer.weight.shape[1]);
        RegisterComponents();
        Freeze();
    }

    /// <summary>Wraps GPT-2's Conv1D (weight stored <c>[in, out]</c>).</summary>
    public LoraLinear(Conv1D baseLayer) : base(nameof(LoraLinear), baseLayer)
    {
        fanInFanOut = true;
        (inFeatures, outFeatures) = (baseLayer.weight.shape[0], baseLayer.weight.shape[1]);
        RegisterComponents();
        Freeze();
    }

    void Freeze()
    {
        foreach (var p in base_layer.parameters()) p.requires_grad = false;
    }

    /// <inheritdoc/>
    public override long InFeatures => inFeatures;
    /// <inheritdoc/>
    public override long OutFeatures => outFeatures;

    /// <summary>Whether the base weight is stored <c>[in, out]</c> (GPT-2's Conv1D).</summary>
    public bool FanInFanOut => fanInFanOut;

    Tensor BaseWeight => base_layer switch
    {
        Linear l => l.weight!,
        Conv1D c => c.weight,
        _ => throw new InvalidOperationException("unreachable"),
    };

    Tensor? BaseBias => base_layer switch
    {
        Linear l => l.bias,
        Conv1D c => c.bias,
        _ => null,
    };

    /// <summary>The base weight as <c>[out, in]</c> (a view for Conv1D).</summary>
    Tensor WeightOutIn => fanInFanOut ? BaseWeight.t() : BaseWeight;

    private protected override void CreateAdapter(LoraAdapterInfo info, Generator? generator)
    {
        var a = nn.Linear(inFeatures, info.R, hasBias: false);
        var b = nn.Linear(info.R, outFeatures, hasBias: false);
        KaimingUniform(a.weight!, generator);
        using (no_grad()) b.weight!.zero_();
        lora_A.Add(info.Name, a);
        lora_B.Add(info.Name, b);
        lora_dropout.Add(info.Name, info.Dropout > 0 ? nn.Dropout(info.Dropout) : nn.Identity());
        if (info.UseDora)
        {
            // m starts at the row norms of W (the update is zero), so a fresh DoRA adapter changes nothing.
            using var _ = no_grad();
            lora_magnitude_vector.Add(info.Name, new DoraMagnitude(RowNorms(WeightOutIn).detach().clone()));
        }
    }

    private protected override void RemoveAdapterModules(string name)
    {
        lora_A.Remove(name);
        lora_B.Remove(name);
        lora_dropout.Remove(name);
        lora_magnitude_vector.Remove(name);
        if (mergedNorms.Remove(name, out var n)) n.Dispose();
    }

    /// <inheritdoc/>
    public override (Tensor A, Tensor B) Factors(string name) => (lora_A[name].weight!, lora_B[name].weight!);

    static Tensor RowNorms(Tensor w) => w.pow(2).sum(1).sqrt();

    Tensor DeltaOutIn(LoraAdapterInfo info) => lora_B[info.Name].weight!.matmul(lora_A[info.Name].weight!) * info.Scaling;

    /// <inheritdoc/>
    public override Tensor DeltaWeight(string name)
    {
        var delta = DeltaOutIn(adapters[name]);
        return fanInFanOut ? delta.t() : delta;
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Suffix, Tensor Value)> AdapterTensors(string name)
    {
        yield return ("lora_A.weight", lora_A[name].weight!);
        yield return ("lora_B.weight", lora_B[name].weight!);
        // PEFT saves the magnitude without its ".weight" (its pre-refactor ParameterDict name).
        if (adapters[name].UseDora) yield return ("lora_magnitude_vector", lora_magnitude_vector[name].weight);
    }

    private protected override Tensor AddUpdate(LoraAdapterInfo info, Tensor x, Tensor baseOutput, Tensor result)
    {
        var dropout = lora_dropout[info.Name];
        var xa = dropout.forward(x);
        var update = lora_B[info.Name].forward(lora_A[info.Name].forward(xa));
        if (!info.UseDora) return result + update * info.Scaling;

        // DoRA: m / ||W + s B A|| rescales the adapted output W x + s B A x. The norm is a constant to autograd.
        Tensor norm;
        using (no_grad()) norm = RowNorms(WeightOutIn + DeltaOutIn(info));
        var scale = lora_magnitude_vector[info.Name].weight / norm;
        // W x without bias: reuse the base output unless dropout changed the adapter's input.
        var dropping = training && info.Dropout > 0;
        var bias = BaseBias;
        var baseNoBias = dropping ? F.linear(xa, WeightOutIn) : bias is null ? baseOutput : baseOutput - bias;
        return result + (scale - 1) * baseNoBias + scale * update * info.Scaling;
    }

    private protected override void MergeOne(LoraAdapterInfo info)
    {
        var weight = BaseWeight;
        var delta = DeltaOutIn(info);
        if (!info.UseDora)
        {
            weight.add_(fanInFanOut ? delta.t() : delta);
            return;
        }
        var adapted = WeightOutIn + delta;
        var norm = RowNorms(adapted).DetachFromDisposeScope();
        mergedNorms[info.Name] = norm;
        var merged = (lora_magnitude_vector[info.Name].weight / norm).unsqueeze(1) * adapted;
        weight.copy_(fanInFanOut ? merged.t() : merged);
    }

    private protected override void UnmergeOne(LoraAdapterInfo info)
    {
        var weight = BaseWeight;
        var delta = DeltaOutIn(info);
        if (!info.UseDora)
        {
            weight.sub_(fanInFanOut ? delta.t() : delta);
            return;
        }
        mergedNorms.Remove(info.Name, out var norm);
        var factor = (lora_magnitude_vector[info.Name].weight / norm!).unsqueeze(1);
        var original = WeightOutIn / factor - delta;
        weight.copy_(fanInFanOut ? original.t() : original);
        norm!.Dispose();
    }
}

/// <summary>
/// LoRA on an embedding (PEFT's <c>lora.Embedding</c>): <c>lora_embedding_A [r, num_embeddings]</c> starts at
/// zero and <c>lora_embedding_B [embedding_dim, r]</c> at N(0, 1), as loralib and PEFT do; the lookup adds
/// <c>s (A^T[ids]) B^T</c>. No dropout and no DoRA, as in PEFT's default embedding layer.
/// </summary>
public sealed class LoraEmbedding : LoraLayer
{
    /// <summary>The A factors, <c>[r, num_embeddings]</c>, one per adapter.</summary>
    public readonly AdapterParameters lora_embedding_A = new();
    /// <summary>The B factors, <c>[embedding_dim, r]</c>, one per adapter.</summary>
    public readonly AdapterParameters lora_embedding_B = new();

    readonly long num, dim;

    /// <summary>Wraps a TorchSharp embedding.</summary>
    public LoraEmbedding(Embedding baseLayer) : base(nameof(LoraEmbedding), baseLayer)
    {
        (num, dim) = (baseLayer.weight!.shape[0], baseLayer.weight.shape[1]);
        RegisterComponents();
        foreach (var p in base_layer.parameters()) p.requires_grad = false;
    }

    /// <inheritdoc/>
    public override long InFeatures => num;
    /// <inheritdoc/>
    public override long OutFeatures => dim;

    Tensor BaseWeight => ((Embedding)base_layer).weight!;

    private protected override void CreateAdapter(LoraAdapterInfo info, Generator? generator)
    {
        if (info.UseDora) throw new NotSupportedException("DoRA is implemented for linear layers; an embedding cannot use it.");
        var a = zeros(info.R, num);
        var b = empty(dim, info.R);
        using (no_grad()) b.normal_(0, 1, generator);
        lora_embedding_A.Add(info.Name, new Parameter(a, requires_grad: true));
        lora_embedding_B.Add(info.Name, new Parameter(b, requires_grad: true));
    }

    private protected override void RemoveAdapterModules(string name)
    {
        lora_embedding_A.Remove(name);
        lora_embedding_B.Remove(name);
    }

    /// <inheritdoc/>
    public override (Tensor A, Tensor B) Factors(string name) => (lora_embedding_A[name], lora_embedding_B[name]);

    /// <inheritdoc/>
    public override Tensor DeltaWeight(string name)
    {
        var info = adapters[name];
        return (lora_embedding_B[name].matmul(lora_embedding_A[name]) * info.Scaling).t();
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Suffix, Tensor Value)> AdapterTensors(string name)
    {
        yield return ("lora_embedding_A", lora_embedding_A[name]);
        yield return ("lora_embedding_B", lora_embedding_B[name]);
    }

    private protected override Tensor AddUpdate(LoraAdapterInfo info, Tensor ids, Tensor baseOutput, Tensor result)
    {
        var a = lora_embedding_A[info.Name];
        var afterA = a.t().index_select(0, ids.reshape(-1)).reshape([.. ids.shape, info.R]);
        return result + afterA.matmul(lora_embedding_B[info.Name].t()) * info.Scaling;
    }

    private protected override void MergeOne(LoraAdapterInfo info) => BaseWeight.add_(DeltaWeight(info.Name));

    private protected override void UnmergeOne(LoraAdapterInfo info) => BaseWeight.sub_(DeltaWeight(info.Name));
}

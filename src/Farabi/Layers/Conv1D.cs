using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Layers;

/// <summary>
/// The affine layer of OpenAI's GPT-2 code, kept by Hugging Face as <c>Conv1D</c>: a linear layer whose weight
/// is stored transposed, <c>[in_features, out_features]</c>, so <c>y = x @ weight + bias</c>. Keeping this
/// storage (rather than a <see cref="Linear"/>) is what makes GPT-2 checkpoints load without transposes.
/// </summary>
public sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    /// <summary>The weight, <c>[in_features, out_features]</c>.</summary>
    public Parameter weight;

    /// <summary>The bias, <c>[out_features]</c>.</summary>
    public Parameter bias;

    /// <summary>Creates the layer with weights drawn from N(0, <paramref name="std"/>) and a zero bias.</summary>
    public Conv1D(long inFeatures, long outFeatures, double std = 0.02, Generator? generator = null) : base(nameof(Conv1D))
    {
        weight = new Parameter(empty(inFeatures, outFeatures));
        bias = new Parameter(zeros(outFeatures));
        using (no_grad()) weight.normal_(0, std, generator);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => addmm(bias, x.reshape(-1, x.shape[^1]), weight, 1, 1)
        .view([.. x.shape[..^1], weight.shape[1]]);
}

using static TorchSharp.torch;

namespace Farabi.Layers;

/// <summary>
/// Rotary position embeddings (Su et al. 2021, RoFormer) in Hugging Face LLaMA's "rotate half" layout: the
/// two halves of each head's vector form the pairs <c>(x[j], x[j + d/2])</c>, rotated by
/// <c>pos * theta^(-2j/d)</c>. (llama2.c and Meta's code rotate adjacent pairs <c>(x[2j], x[2j+1])</c>
/// instead; <see cref="IO.Llama2cImporter"/> permutes q/k weights so both give the same attention.)
/// </summary>
public static class RotaryEmbedding
{
    /// <summary>
    /// Cosines and sines for positions <c>start .. start+length-1</c>, each <c>[length, headDim]</c> (the
    /// half-size table repeated twice, as HF does), on <paramref name="device"/>.
    /// </summary>
    public static (Tensor Cos, Tensor Sin) Table(long start, long length, long headDim, double theta, Device device)
    {
        using var scope = NewDisposeScope();
        // Frequencies in float64 then cast, so the angles match a float32 reference to the last bit or two
        // even at long positions.
        var invFreq = pow(theta, -arange(0, headDim, 2, ScalarType.Float64, device) / headDim);
        var positions = arange(start, start + length, 1, ScalarType.Float64, device);
        var angles = outer(positions, invFreq);
        var emb = cat([angles, angles], -1);
        return (emb.cos().to_type(ScalarType.Float32).MoveToOuterDisposeScope(), emb.sin().to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    /// <summary>Applies the rotation to <paramref name="x"/> of shape <c>[B, H, T, headDim]</c>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([-x2, x1], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}

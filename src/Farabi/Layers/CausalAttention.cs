using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Farabi.Layers;

/// <summary>
/// The attention step shared by GPT-2 and LLaMA: causal <c>scaled_dot_product_attention</c> over queries that
/// may follow cached keys, with grouped-query attention (Ainslie et al. 2023) when there are fewer key/value
/// heads than query heads.
/// </summary>
public static class CausalAttention
{
    /// <summary>
    /// Attends queries <c>[B, H, Tq, D]</c> at positions <c>past .. past+Tq-1</c> to keys and values
    /// <c>[B, Hkv, past+Tq, D]</c>; query head <c>h</c> reads key/value head <c>h / (H / Hkv)</c>. Returns
    /// <c>[B, Tq, H*D]</c>.
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, long past, double dropout)
    {
        using var scope = NewDisposeScope();
        var heads = q.shape[1];
        var kvHeads = k.shape[1];
        if (heads != kvHeads)
        {
            if (heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads cannot share {kvHeads} key/value heads evenly.");
            k = k.repeat_interleave(heads / kvHeads, dim: 1);
            v = v.repeat_interleave(heads / kvHeads, dim: 1);
        }
        var tq = q.shape[2];
        var tk = k.shape[2];
        Tensor y;
        if (past == 0 && tq == tk)
            y = F.scaled_dot_product_attention(q, k, v, p: dropout, is_casual: true);
        else if (tq == 1)
            y = F.scaled_dot_product_attention(q, k, v, p: dropout); // the one new token may see everything before it
        else
        {
            // is_causal aligns the mask to the top-left corner; after a cache the queries are the LAST tq keys,
            // so query i may see keys 0 .. past+i.
            var mask = ones([tq, tk], ScalarType.Bool, q.device).tril(past);
            y = F.scaled_dot_product_attention(q, k, v, mask, p: dropout);
        }
        var b = q.shape[0];
        return y.transpose(1, 2).reshape(b, tq, heads * q.shape[3]).MoveToOuterDisposeScope();
    }
}

using System.Buffers.Binary;
using Farabi.Models;
using static TorchSharp.torch;

namespace Farabi.IO;

/// <summary>The seven-integer header of a llama2.c checkpoint (karpathy/llama2.c, run.c's <c>Config</c>).</summary>
/// <param name="Dim">Model width.</param>
/// <param name="HiddenDim">SwiGLU width.</param>
/// <param name="Layers">Number of layers.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="VocabSize">Vocabulary size (the header stores it negated when the classifier is not shared).</param>
/// <param name="SeqLen">Maximum sequence length.</param>
/// <param name="SharedClassifier">Whether the output head reuses the token embedding.</param>
public sealed record Llama2cHeader(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int SeqLen, bool SharedClassifier)
{
    /// <summary>Width of one head.</summary>
    public int HeadSize => Dim / Heads;

    /// <summary>Width of all key (or value) heads together.</summary>
    public int KvDim => KvHeads * HeadSize;

    /// <summary>The HF configuration of the same model (llama2.c uses RMSNorm eps 1e-5 and RoPE base 10000).</summary>
    public LlamaConfig ToLlamaConfig() => new()
    {
        VocabSize = VocabSize, HiddenSize = Dim, IntermediateSize = HiddenDim, NumHiddenLayers = Layers,
        NumAttentionHeads = Heads, NumKeyValueHeads = KvHeads, MaxPositionEmbeddings = SeqLen,
        RmsNormEps = 1e-5, RopeTheta = 10000.0, TieWordEmbeddings = SharedClassifier, BosTokenId = 1, EosTokenId = 2,
    };
}

/// <summary>
/// Imports checkpoints of karpathy/llama2.c in its original ("version 0", the one run.c reads) format into
/// an HF-named <see cref="LlamaForCausalLM"/>.
/// </summary>
/// <remarks>
/// Layout after the 28-byte header, all float32 little-endian, matrices row-major <c>[out, in]</c>, each
/// per-layer tensor stacked over layers: token embedding <c>[vocab, dim]</c>, attention RMSNorm gains, wq,
/// wk, wv, wo, FFN RMSNorm gains, w1 (gate), w2 (down), w3 (up), final RMSNorm gain, two legacy RoPE
/// tables of <c>seq_len * head_size / 2</c> floats each (ignored: the model recomputes them), then the
/// classifier only when not shared.
/// <para>llama2.c rotates adjacent pairs <c>(2i, 2i+1)</c> of each head; HF LLaMA rotates
/// <c>(i, i + head_size/2)</c>. Reordering the rows of wq and wk within each head so that row
/// <c>2i + c</c> moves to <c>c * head_size/2 + i</c> (HF's conversion-script permutation) makes the
/// HF-convention model compute exactly the same attention: q and k are permuted alike, so their dot
/// products do not change.</para>
/// </remarks>
public static class Llama2cImporter
{
    /// <summary>The magic number of llama2.c's newer "version 1+" exports ("ak42"), which this importer does not read.</summary>
    const uint VersionedMagic = 0x616b3432;

    /// <summary>Reads and validates the header of <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a llama2.c version-0 checkpoint, or truncated.</exception>
    public static Llama2cHeader ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"llama2.c checkpoint '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return ReadHeader(path, stream);
    }

    static Llama2cHeader ReadHeader(string path, Stream stream)
    {
        Span<byte> bytes = stackalloc byte[28];
        if (stream.Length < 28) throw new InvalidDataException($"llama2.c checkpoint '{path}' is truncated: {stream.Length} bytes is shorter than the 28-byte header.");
        stream.ReadExactly(bytes);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) == VersionedMagic)
            throw new NotSupportedException($"llama2.c checkpoint '{path}' is a versioned (v1+) export; export it with --version 0 (the format run.c reads).");
        var v = new int[7];
        for (var i = 0; i < 7; i++) v[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
        var header = new Llama2cHeader(v[0], v[1], v[2], v[3], v[4], Math.Abs(v[5]), v[6], v[5] > 0);
        if (header.Dim <= 0 || header.HiddenDim <= 0 || header.Layers <= 0 || header.Heads <= 0 || header.KvHeads <= 0 || header.VocabSize == 0 || header.SeqLen <= 0
            || header.Dim % header.Heads != 0 || header.Heads % header.KvHeads != 0 || header.HeadSize % 2 != 0)
            throw new InvalidDataException($"llama2.c checkpoint '{path}' has an invalid header (dim {v[0]}, hidden_dim {v[1]}, n_layers {v[2]}, n_heads {v[3]}, n_kv_heads {v[4]}, vocab_size {v[5]}, seq_len {v[6]}).");
        var expected = 28 + 4 * ExpectedFloats(header);
        if (stream.Length != expected)
            throw new InvalidDataException($"llama2.c checkpoint '{path}' has {stream.Length} bytes but its header implies {expected}: it is truncated or not a version-0 export.");
        return header;
    }

    static long ExpectedFloats(Llama2cHeader h)
    {
        long dim = h.Dim, hid = h.HiddenDim, L = h.Layers, kv = h.KvDim, vocab = h.VocabSize;
        var perLayer = 2 * dim + 2 * dim * dim + 2 * dim * kv + 3 * dim * hid;
        return vocab * dim + L * perLayer + dim + (long)h.SeqLen * h.HeadSize + (h.SharedClassifier ? 0 : vocab * dim);
    }

    /// <summary>Reads <paramref name="path"/> into a new HF-named LLaMA in eval mode.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a llama2.c version-0 checkpoint, or truncated.</exception>
    public static LlamaForCausalLM Import(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"llama2.c checkpoint '{path}' does not exist.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var h = ReadHeader(path, stream);
        var model = new LlamaForCausalLM(h.ToLlamaConfig());
        try
        {
            var layers = model.model.layers;
            using var _ = no_grad();
            void Fill(Tensor target) { using var t = ReadFloats(stream, target.shape); target.copy_(t); }
            void Each(Func<LlamaDecoderLayer, Tensor> target)
            {
                foreach (var layer in layers) Fill(target(layer));
            }
            void EachPermuted(Func<LlamaDecoderLayer, Tensor> target, int heads)
            {
                foreach (var layer in layers)
                {
                    var w = target(layer);
                    using var raw = ReadFloats(stream, w.shape);
                    using var permuted = AdjacentToHalfRotation(raw, heads);
                    w.copy_(permuted);
                }
            }

            Fill(model.model.embed_tokens.weight!);
            Each(l => l.input_layernorm.weight);
            EachPermuted(l => l.self_attn.q_proj.weight!, h.Heads);
            EachPermuted(l => l.self_attn.k_proj.weight!, h.KvHeads);
            Each(l => l.self_attn.v_proj.weight!);
            Each(l => l.self_attn.o_proj.weight!);
            Each(l => l.post_attention_layernorm.weight);
            Each(l => l.mlp.gate_proj.weight!);
            Each(l => l.mlp.down_proj.weight!);
            Each(l => l.mlp.up_proj.weight!);
            Fill(model.model.norm.weight);
            stream.Seek(4L * h.SeqLen * h.HeadSize, SeekOrigin.Current); // legacy freq_cis_real and freq_cis_imag
            if (!h.SharedClassifier) Fill(model.lm_head!.weight!);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    static Tensor ReadFloats(Stream stream, long[] shape)
    {
        var t = empty(shape, ScalarType.Float32);
        stream.ReadExactly(t.bytes);
        return t;
    }

    /// <summary>
    /// Reorders the rows of a q or k projection <c>[heads * head_size, in]</c> from llama2.c's adjacent-pair
    /// rotary layout to HF's half-split layout (HF <c>convert_llama_weights_to_hf.py</c>'s <c>permute</c>).
    /// </summary>
    public static Tensor AdjacentToHalfRotation(Tensor weight, int heads)
    {
        var (rows, cols) = (weight.shape[0], weight.shape[1]);
        return weight.view(heads, rows / heads / 2, 2, cols).transpose(1, 2).reshape(rows, cols);
    }
}

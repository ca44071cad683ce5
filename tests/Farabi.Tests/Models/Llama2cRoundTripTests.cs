using System.Buffers.Binary;
using Farabi.IO;
using Farabi.Models;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Models;

/// <summary>
/// Writes a random HF-convention LLaMA in llama2.c's version-0 layout (what llama2.c's export.py does: rows of
/// wq/wk back to adjacent-pair order) and imports it again: the logits must come back, with an unshared
/// classifier (negative vocab size in the header) as well as a shared one.
/// </summary>
public class Llama2cRoundTripTests
{
    static void WriteLlama2c(LlamaForCausalLM model, string path)
    {
        var c = model.LlamaConfig;
        using var stream = File.Create(path);
        var header = new byte[28];
        int[] values = [c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.KeyValueHeads,
            c.TieWordEmbeddings ? c.VocabSize : -c.VocabSize, c.MaxPositionEmbeddings];
        for (var i = 0; i < 7; i++) BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4 * i), values[i]);
        stream.Write(header);
        void Put(Tensor t) { using var c32 = t.detach().contiguous(); stream.Write(c32.bytes); }
        Tensor HalfToAdjacent(Tensor w, int heads)
        {
            var (rows, cols) = (w.shape[0], w.shape[1]);
            return w.view(heads, 2, rows / heads / 2, cols).transpose(1, 2).reshape(rows, cols);
        }
        var layers = model.model.layers.ToList();
        Put(model.model.embed_tokens.weight!);
        layers.ForEach(l => Put(l.input_layernorm.weight));
        layers.ForEach(l => Put(HalfToAdjacent(l.self_attn.q_proj.weight!, c.NumAttentionHeads)));
        layers.ForEach(l => Put(HalfToAdjacent(l.self_attn.k_proj.weight!, c.KeyValueHeads)));
        layers.ForEach(l => Put(l.self_attn.v_proj.weight!));
        layers.ForEach(l => Put(l.self_attn.o_proj.weight!));
        layers.ForEach(l => Put(l.post_attention_layernorm.weight));
        layers.ForEach(l => Put(l.mlp.gate_proj.weight!));
        layers.ForEach(l => Put(l.mlp.down_proj.weight!));
        layers.ForEach(l => Put(l.mlp.up_proj.weight!));
        Put(model.model.norm.weight);
        Put(zeros((long)c.MaxPositionEmbeddings * c.HeadDim)); // the legacy freq_cis tables
        if (!c.TieWordEmbeddings) Put(model.lm_head!.weight!);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ExportedThenImportedModelGivesTheSameLogits(bool tied)
    {
        using var original = new LlamaForCausalLM(TinyModels.Llama(kvHeads: 2, tied: tied) with { RmsNormEps = 1e-5 }, seed: 12);
        original.eval();
        var path = Path.Combine(TinyModels.TempDir(), "model.bin");
        WriteLlama2c(original, path);
        var header = Llama2cImporter.ReadHeader(path);
        Assert.Equal(tied, header.SharedClassifier);
        Assert.Equal(67, header.VocabSize);
        using var imported = Llama2cImporter.Import(path);
        Assert.Equal(tied, imported.lm_head is null);
        var ids = TinyModels.Ids(67, 2, 10);
        var diff = (imported.Forward(ids) - original.Forward(ids)).abs().max().item<float>();
        Assert.True(diff < 1e-6, $"max |difference| {diff}");
    }
}

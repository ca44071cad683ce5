using Farabi.Models;
using static TorchSharp.torch;

namespace Farabi.Tests.Models;

/// <summary>Small configurations that build and run in milliseconds.</summary>
static class TinyModels
{
    // Tests may touch torch through this class first: make Farabi patch the native shim before that.
    static TinyModels() => Farabi.Native.GlibcxxCompat.EnsureLoadable();

    public static Gpt2Config Gpt2(bool tied = true) => new()
    {
        VocabSize = 61, NPositions = 32, NEmbd = 24, NLayer = 2, NHead = 3,
        ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0, TieWordEmbeddings = tied,
    };

    public static LlamaConfig Llama(int kvHeads = 2, bool tied = false) => new()
    {
        VocabSize = 67, HiddenSize = 32, IntermediateSize = 40, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeads = kvHeads, MaxPositionEmbeddings = 48, RmsNormEps = 1e-5, TieWordEmbeddings = tied,
    };

    /// <summary>Random ids <c>[batch, length]</c> below <paramref name="vocab"/>, seeded.</summary>
    public static Tensor Ids(int vocab, long batch, long length, long seed = 7)
    {
        using var g = new Generator((ulong)seed, CPU);
        return randint(0, vocab, [batch, length], dtype: ScalarType.Int64, generator: g);
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "farabi-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

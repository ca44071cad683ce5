using Farabi.Generation;
using Farabi.IO;
using static TorchSharp.torch;

namespace Farabi.Models;

/// <summary>
/// A decoder-only language model: token ids <c>[B, T]</c> in, next-token logits <c>[B, T, V]</c> out. GPT-2
/// and LLaMA derive from it, so the trainer, the sampler, LoRA and the research recipes treat them alike.
/// Weights use Hugging Face's key names and are saved as an HF folder (<c>model.safetensors</c> +
/// <c>config.json</c>).
/// </summary>
/// <remarks>
/// When the head is tied to the token embedding, <c>lm_head.weight</c> is not a separate parameter and not
/// in <c>state_dict()</c> (exactly what HF writes to safetensors); <see cref="nn.Module.parameters"/> therefore
/// lists every trainable tensor once, ready for an optimizer.
/// </remarks>
public abstract class CausalLanguageModel : nn.Module<Tensor, Tensor>
{
    /// <summary>The weights file inside a model folder.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>The config file inside a model folder.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Creates the base with the module name <paramref name="name"/>.</summary>
    protected CausalLanguageModel(string name) : base(name) { }

    /// <summary>The configuration the model was built from.</summary>
    public abstract CausalLanguageModelConfig Config { get; }

    /// <summary>Number of token ids.</summary>
    public int VocabSize => Config.VocabSize;

    /// <summary>Longest accepted sequence, cache included.</summary>
    public int ContextLength => Config.ContextLength;

    /// <summary>
    /// Final hidden states <c>[B, T, C]</c> (after the last norm) for <paramref name="ids"/> <c>[B, T]</c>
    /// (int64). With a <paramref name="cache"/>, the ids continue the cached sequence: they take positions
    /// <c>cache.Length ..</c>, attend to the cached keys, and are appended to the cache.
    /// </summary>
    public abstract Tensor Hidden(Tensor ids, KeyValueCache? cache = null);

    /// <summary>The output head: hidden states <c>[.., C]</c> to logits <c>[.., V]</c>.</summary>
    public abstract Tensor Head(Tensor hidden);

    /// <summary>Logits <c>[B, T, V]</c> for <paramref name="ids"/> <c>[B, T]</c>; see <see cref="Hidden"/> for the cache.</summary>
    public Tensor Forward(Tensor ids, KeyValueCache? cache = null)
    {
        using var scope = NewDisposeScope();
        return Head(Hidden(ids, cache)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor ids) => Forward(ids);

    /// <summary>A cache for this model's layers holding up to <paramref name="capacity"/> positions (default: the context length).</summary>
    public KeyValueCache NewCache(int? capacity = null) => new(Config.NumLayers, Math.Min(capacity ?? ContextLength, ContextLength));

    /// <summary>Number of trainable values, each shared tensor counted once.</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>Values of a learned position table (looked up, never multiplied), 0 when there is none.</summary>
    protected virtual long PositionEmbeddingCount => 0;

    /// <summary>
    /// Mean next-token cross-entropy (nats) of <paramref name="ids"/> <c>[B, T]</c> predicting
    /// <paramref name="targets"/> <c>[B, T]</c> (int64); targets equal to <paramref name="ignoreIndex"/> do not count.
    /// </summary>
    public Tensor Loss(Tensor ids, Tensor targets, long ignoreIndex = -100)
    {
        using var scope = NewDisposeScope();
        var logits = Forward(ids);
        return nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.reshape(-1), ignore_index: ignoreIndex)
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Floating-point operations to train on one token with context <paramref name="sequenceLength"/>:
    /// <c>6 N + 12 L C T</c> (forward + backward of every weight matmul, plus attention scores and their
    /// weighting), the estimate of the PaLM paper (Chowdhery et al. 2022, appendix B) that nanoGPT's MFU uses.
    /// N excludes learned position tables, which are looked up rather than multiplied. Forward only is a third.
    /// </summary>
    public double TrainingFlopsPerToken(int sequenceLength) =>
        6.0 * (ParameterCount() - PositionEmbeddingCount) + 12.0 * Config.NumLayers * Config.HiddenWidth * sequenceLength;

    /// <summary>
    /// Maps a key found in a checkpoint to this model's state-dict name, or null to skip it. The default
    /// accepts names as they are; models override it for HF variants (prefix-less GPT-2 files, buffers that
    /// HF keeps in old files, a tied <c>lm_head.weight</c>).
    /// </summary>
    protected virtual string? MapCheckpointKey(string key) => key;

    /// <summary>Loads weights from a safetensors file (HF names); see <see cref="Safetensors.LoadInto"/>.</summary>
    public StateLoadReport LoadWeights(string path, bool strict = true) => Safetensors.LoadInto(this, path, strict, MapCheckpointKey);

    /// <summary>
    /// Writes the model as a Hugging Face folder: <c>model.safetensors</c> (fp32, HF names, <c>format: pt</c>
    /// metadata as <c>save_pretrained</c> writes) and <c>config.json</c>. Each file is written atomically.
    /// </summary>
    public void SaveHf(string directory, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(directory);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["format"] = "pt" };
        Safetensors.Save(Path.Combine(directory, WeightsFileName), state_dict(), meta);
        Config.Save(Path.Combine(directory, ConfigFileName));
    }

    /// <summary>
    /// Loads an HF model folder (<c>config.json</c> + <c>model.safetensors</c>), building the architecture its
    /// <c>model_type</c> names. The model is returned in eval mode.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">The folder lacks one of the two files.</exception>
    /// <exception cref="InvalidDataException">The weights are corrupt or do not fit the config.</exception>
    public static CausalLanguageModel Load(string directory, bool strict = true)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        var config = CausalLanguageModelConfig.Load(Path.Combine(directory, ConfigFileName));
        var weights = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weights)) throw new FileNotFoundException($"Model folder '{directory}' has no {WeightsFileName}.", weights);
        var model = config.CreateModel();
        try
        {
            model.LoadWeights(weights, strict);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }
}

using Farabi.Data;
using Farabi.Lora;
using Farabi.Models;

namespace Farabi.Research.FineTuning;

/// <summary>
/// How the shared base model is made: vocabulary size, GPT-2 shape (width, blocks, heads, context) and the
/// pretraining run. Dropout is off: runs are short and every method must see the same function.
/// </summary>
public sealed record PretrainSpec(int VocabSize = 1024, int Width = 96, int Layers = 3, int Heads = 4, int Context = 64,
    int Steps = 500, int BatchSize = 16, double LearningRate = 2e-3, long Seed = 1337)
{
    /// <summary>The GPT-2 shape (the vocabulary size is set from the trained tokenizer).</summary>
    public Gpt2Config Shape => new()
    {
        VocabSize = VocabSize, NPositions = Context, NEmbd = Width, NLayer = Layers, NHead = Heads,
        ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0,
    };

    /// <summary>A tiny base for tests and the demo: 48 wide, 2 blocks, 512 tokens.</summary>
    public static PretrainSpec Tiny(long seed) => new(VocabSize: 512, Width: 48, Layers: 2, Heads: 4, Context: 48, Steps: 150, BatchSize: 16, LearningRate: 3e-3, Seed: seed);

    /// <summary>
    /// Trains the tokenizer on <paramref name="texts"/> (saved in <paramref name="tokenizerDirectory"/>) and pretrains
    /// the model on them; <paramref name="onStage"/> hears the stages, <paramref name="onStep"/> every pretraining step.
    /// </summary>
    public PretrainedBase Build(IReadOnlyList<string> texts, string tokenizerDirectory, Action<string>? onStage = null, Action<FineTuneStep>? onStep = null)
    {
        if (texts.Count == 0) throw new ArgumentException("The pretraining text is empty.");
        onStage?.Invoke($"training a {VocabSize}-token BPE vocabulary on {texts.Sum(t => (long)t.Length):N0} characters");
        var tokenizer = PretrainedBase.TrainTokenizer(texts, VocabSize, tokenizerDirectory);
        return Pretrain(tokenizer, texts, onStage, onStep);
    }

    /// <summary>Pretrains a model of this shape on <paramref name="texts"/> with an existing <paramref name="tokenizer"/>.</summary>
    public PretrainedBase Pretrain(Farabi.Tokenizers.Bpe.BpeTokenizer tokenizer, IReadOnlyList<string> texts, Action<string>? onStage = null, Action<FineTuneStep>? onStep = null)
    {
        onStage?.Invoke($"pretraining GPT-2 {Width} wide, {Layers} blocks, context {Context}, {Steps} steps");
        return PretrainedBase.Pretrain(tokenizer, texts, Shape, new FineTuneOptions(Steps, BatchSize, LearningRate, 0, Seed), onStep);
    }

    /// <summary>Built-in English stories (<see cref="BuiltInText"/>) of about <paramref name="chars"/> characters, one text per story.</summary>
    public static List<string> BuiltInStories(int chars, int seed) =>
        BuiltInText.Generate(chars, seed, "\n\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries).ToList();
}

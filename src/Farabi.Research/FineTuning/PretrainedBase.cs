using Farabi.Lora;
using Farabi.Models;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Bpe.Training;
using Farabi.Tokenizers.Formats;
using static TorchSharp.torch;

namespace Farabi.Research.FineTuning;

/// <summary>
/// The starting point every member of the fine-tuning family shares: a byte-level BPE vocabulary trained on the
/// pretraining text and a small GPT-2 pretrained on it (next-token prediction). Each fine-tuning method gets its
/// own copy of the weights (<see cref="NewClassifier"/>), so all of them start from exactly the same model.
/// </summary>
public sealed class PretrainedBase : IDisposable
{
    /// <summary>The special token that ends each document in pretraining; it also pads classification batches.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>The vocabulary the model reads.</summary>
    public BpeTokenizer Tokenizer { get; }

    /// <summary>The pretrained language model (kept unchanged; copies are fine-tuned).</summary>
    public Gpt2LMHeadModel Model { get; }

    /// <summary>The id of <see cref="EndOfText"/>.</summary>
    public int EndOfTextId { get; }

    /// <summary>Held-out next-token loss before and after pretraining (NaN when there was no held-out text).</summary>
    public (double Before, double After) HeldOutLoss { get; }

    /// <summary>Pretraining tokens seen (steps × batch × sequence).</summary>
    public long TokensSeen { get; }

    PretrainedBase(BpeTokenizer tokenizer, Gpt2LMHeadModel model, (double, double) heldOut, long tokensSeen)
    {
        Tokenizer = tokenizer;
        Model = model;
        EndOfTextId = tokenizer.SpecialTokens[EndOfText];
        HeldOutLoss = heldOut;
        TokensSeen = tokensSeen;
    }

    /// <summary>
    /// Trains a GPT-2-style byte-level BPE vocabulary of <paramref name="vocabSize"/> tokens (with
    /// <see cref="EndOfText"/>) on <paramref name="texts"/>, saves it in <paramref name="directory"/> and loads it back.
    /// </summary>
    public static BpeTokenizer TrainTokenizer(IReadOnlyList<string> texts, int vocabSize, string directory)
    {
        var result = new BpeTrainer(new BpeTrainerOptions { VocabSize = vocabSize, SpecialTokens = [EndOfText], MaxDegreeOfParallelism = 2 })
            .Train(TrainingCorpus.FromTexts(texts));
        result.Save(directory);
        return VocabularyFolder.Load(directory);
    }

    /// <summary>
    /// Pretrains a fresh GPT-2 of shape <paramref name="shape"/> (its vocabulary set to the tokenizer's) on
    /// <paramref name="texts"/>, each followed by <see cref="EndOfText"/>; the last 5% of the texts are held out.
    /// <paramref name="onStep"/> sees every step.
    /// </summary>
    public static PretrainedBase Pretrain(BpeTokenizer tokenizer, IReadOnlyList<string> texts, Gpt2Config shape, FineTuneOptions options,
        Action<FineTuneStep>? onStep = null)
    {
        if (!tokenizer.SpecialTokens.TryGetValue(EndOfText, out var eot)) throw new ArgumentException($"The tokenizer has no {EndOfText} token.");
        var heldOutCount = texts.Count >= 20 ? texts.Count / 20 : 0;
        var train = Stream(tokenizer, texts.Take(texts.Count - heldOutCount), eot);
        var heldOut = Stream(tokenizer, texts.Skip(texts.Count - heldOutCount), eot);
        var config = shape with { VocabSize = tokenizer.VocabSize, BosTokenId = eot, EosTokenId = eot };
        var model = new Gpt2LMHeadModel(config, options.Seed);
        var sequence = Math.Min(config.NPositions, Math.Max(2, train.Length - 1));
        var evaluate = heldOut.Length > sequence;
        var before = evaluate ? LoraFineTuner.LanguageModelLoss(model, heldOut, sequence) : double.NaN;
        foreach (var step in LoraFineTuner.TrainLanguageModel(model, train, [], sequence, options with { EvalEvery = 0 }))
            onStep?.Invoke(step);
        var after = evaluate ? LoraFineTuner.LanguageModelLoss(model, heldOut, sequence) : double.NaN;
        model.eval();
        return new PretrainedBase(tokenizer, model, (before, after), (long)options.Steps * options.BatchSize * sequence);
    }

    /// <summary>
    /// Loads a base saved by <see cref="Save"/> (<paramref name="modelDirectory"/>) with the vocabulary it was trained
    /// with (<paramref name="tokenizerDirectory"/>), so that a second comparison can skip pretraining; the held-out loss
    /// is unknown (NaN).
    /// </summary>
    /// <exception cref="InvalidDataException">The model is not a GPT-2, or the vocabulary has no <see cref="EndOfText"/> token.</exception>
    public static PretrainedBase Load(string modelDirectory, string tokenizerDirectory)
    {
        var tokenizer = VocabularyFolder.Load(tokenizerDirectory);
        if (!tokenizer.SpecialTokens.ContainsKey(EndOfText)) throw new InvalidDataException($"The vocabulary in '{tokenizerDirectory}' has no {EndOfText} token.");
        var model = CausalLanguageModel.Load(modelDirectory);
        if (model is not Gpt2LMHeadModel gpt2)
        {
            model.Dispose();
            throw new InvalidDataException($"The model in '{modelDirectory}' is a {model.Config.ModelType}; the fine-tuning family uses GPT-2.");
        }
        if (gpt2.Gpt2Config.VocabSize != tokenizer.VocabSize)
        {
            gpt2.Dispose();
            throw new InvalidDataException($"The model in '{modelDirectory}' has {gpt2.Gpt2Config.VocabSize} tokens but the vocabulary in '{tokenizerDirectory}' has {tokenizer.VocabSize}.");
        }
        gpt2.eval();
        return new PretrainedBase(tokenizer, gpt2, (double.NaN, double.NaN), 0);
    }

    static int[] Stream(BpeTokenizer tokenizer, IEnumerable<string> texts, int eot)
    {
        var ids = new List<int>();
        foreach (var text in texts)
        {
            ids.AddRange(tokenizer.EncodeOrdinary(text));
            ids.Add(eot);
        }
        return [.. ids];
    }

    /// <summary>The ids of <paramref name="text"/>, cut to the model's context.</summary>
    public int[] Encode(string text)
    {
        var ids = Tokenizer.EncodeOrdinary(text);
        return ids.Length <= Model.ContextLength ? ids : ids[..Model.ContextLength];
    }

    /// <summary>Token ids and labels of <paramref name="examples"/>, ready for <see cref="LoraFineTuner.TrainClassifier"/>.</summary>
    public List<LabelledIds> Encode(IEnumerable<TextExample> examples) =>
        examples.Select(e => new LabelledIds(Encode(e.Text), e.Label)).Where(e => e.Ids.Length > 0).ToList();

    /// <summary>A fresh copy of the pretrained language model (same weights, independent tensors).</summary>
    public Gpt2LMHeadModel CopyLanguageModel()
    {
        var copy = new Gpt2LMHeadModel(Model.Gpt2Config);
        using (no_grad()) copy.load_state_dict(Model.state_dict());
        return copy;
    }

    /// <summary>A classifier on a fresh copy of the pretrained body: zero head of <paramref name="numLabels"/> classes, padded with <see cref="EndOfText"/>.</summary>
    public SequenceClassificationModel NewClassifier(int numLabels) => new(CopyLanguageModel(), numLabels, EndOfTextId);

    /// <summary>Saves the pretrained model (HF folder) and nothing else; the tokenizer lives where it was trained.</summary>
    public void Save(string directory) => Model.SaveHf(directory);

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}

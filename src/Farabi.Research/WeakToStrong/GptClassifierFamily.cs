using Farabi.Data;
using Farabi.Lora;
using Farabi.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Farabi.Research.WeakToStrong;

/// <summary>How a <see cref="GptClassifierFamily"/> trains its classifiers.</summary>
/// <param name="PretrainSteps">Next-token steps on the pretraining text before any classification (0: random init).</param>
/// <param name="PretrainChars">Size of the built-in pretraining text (ignored when a text is given).</param>
/// <param name="Steps">Classification steps per training run.</param>
/// <param name="BatchSize">Examples per step.</param>
/// <param name="LearningRate">AdamW learning rate.</param>
/// <param name="EvalEvery">Steps between validation checks (the end is always checked).</param>
/// <param name="LoraRank">0: full fine-tuning; otherwise LoRA of this rank on all linear layers (the head trained fully).</param>
/// <param name="MaxTokens">Texts are cut to this many byte tokens.</param>
public sealed record GptFamilyOptions(int PretrainSteps = 100, int PretrainChars = 60_000, int Steps = 300, int BatchSize = 32,
    double LearningRate = 1e-3, int EvalEvery = 50, int LoraRank = 0, int MaxTokens = 96);

/// <summary>
/// Farabi GPT-2 models of one size as binary text classifiers: a byte-level GPT-2 pretrained briefly on text (the
/// built-in stories by default), then a zero-initialised head on the last token (<see cref="SequenceClassificationModel"/>)
/// fine-tuned fully or with LoRA on soft targets with a <see cref="StudentLoss"/>. Larger sizes are the stronger models.
/// </summary>
public sealed class GptClassifierFamily : IClassifierFamily, IDisposable
{
    readonly Gpt2Config config;
    readonly string? pretrainText;
    Dictionary<string, Tensor>? pretrained;

    /// <summary>A family named <paramref name="name"/> of GPT-2 models shaped by <paramref name="config"/> (byte vocabulary).</summary>
    public GptClassifierFamily(string name, Gpt2Config config, GptFamilyOptions? options = null, string? pretrainText = null)
    {
        if (config.VocabSize != SyntheticSentiment.ByteVocabSize) throw new ArgumentException($"The GPT family reads bytes: vocab_size must be {SyntheticSentiment.ByteVocabSize}, not {config.VocabSize}.");
        Name = name;
        this.config = config;
        Options = options ?? new GptFamilyOptions();
        this.pretrainText = pretrainText;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The training settings.</summary>
    public GptFamilyOptions Options { get; }

    /// <summary>The model shape.</summary>
    public Gpt2Config Config => config;

    /// <summary>
    /// The preset sizes: <c>gpt-tiny</c> (1 layer, width 32), <c>gpt-small</c> (2 layers, 64), <c>gpt-medium</c>
    /// (4 layers, 128), <c>gpt-large</c> (6 layers, 192). Dropout is off so seeds reproduce exactly.
    /// </summary>
    public static GptClassifierFamily Preset(string name, GptFamilyOptions? options = null, string? pretrainText = null)
    {
        var (layers, width, heads) = name switch
        {
            "gpt-tiny" or "tiny" => (1, 32, 2),
            "gpt-small" or "small" => (2, 64, 4),
            "gpt-medium" or "medium" => (4, 128, 4),
            "gpt-large" or "large" => (6, 192, 6),
            _ => throw new ArgumentException($"Unknown model '{name}'; expected gpt-tiny, gpt-small, gpt-medium or gpt-large."),
        };
        var config = new Gpt2Config
        {
            VocabSize = SyntheticSentiment.ByteVocabSize, NPositions = 128, NEmbd = width, NLayer = layers, NHead = heads,
            ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0, BosTokenId = null, EosTokenId = null,
        };
        return new GptClassifierFamily(name.StartsWith("gpt-", StringComparison.Ordinal) ? name : "gpt-" + name, config, options, pretrainText);
    }

    /// <summary>Byte ids shifted by one (0 pads), cut to <see cref="GptFamilyOptions.MaxTokens"/>.</summary>
    int[] Encode(string text)
    {
        var ids = SyntheticSentiment.ByteIds(text);
        return ids.Length <= Options.MaxTokens ? ids : ids[..Options.MaxTokens];
    }

    /// <summary>Pretrains once (seed fixed per family, so every run starts from the same weights) and keeps a copy.</summary>
    Dictionary<string, Tensor> Pretrained()
    {
        if (pretrained != null) return pretrained;
        using var lm = config.CreateModel(seed: 1234);
        if (Options.PretrainSteps > 0)
        {
            var text = pretrainText ?? BuiltInText.Generate(Options.PretrainChars, seed: 0);
            var tokens = SyntheticSentiment.ByteIds(text);
            foreach (var _ in LoraFineTuner.TrainLanguageModel(lm, tokens, [], 64,
                         new FineTuneOptions(Steps: Options.PretrainSteps, BatchSize: 16, LearningRate: 3e-3, Seed: 1234, EvalEvery: 0))) { }
        }
        pretrained = lm.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        return pretrained;
    }

    /// <inheritdoc/>
    public ClassifierTrainingOutcome Train(ClassifierTrainingRequest request)
    {
        if (request.Texts.Count == 0) throw new ArgumentException("The training set is empty.");
        if (request.Texts.Count != request.Class1Targets.Count) throw new ArgumentException($"{request.Texts.Count} texts for {request.Class1Targets.Count} targets.");
        var weights = Pretrained();
        var lm = config.CreateModel(seed: request.Seed);
        using (no_grad()) lm.load_state_dict(weights);
        var model = new SequenceClassificationModel(lm, 2, padTokenId: 0);
        if (Options.LoraRank > 0)
            LoraModel.Inject(model, new LoraConfig
            {
                R = Options.LoraRank, LoraAlpha = 2 * Options.LoraRank, TargetModules = [LoraConfig.AllLinear], ModulesToSave = ["score"], TaskType = "SEQ_CLS",
            }, seed: request.Seed);
        var classifier = new GptTextClassifier(model, Encode);
        try
        {
            return Fit(classifier, request);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    ClassifierTrainingOutcome Fit(GptTextClassifier classifier, ClassifierTrainingRequest request)
    {
        var model = classifier.Model;
        var ids = request.Texts.Select(Encode).ToArray();
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = optim.AdamW(parameters, lr: Options.LearningRate, weight_decay: 0.0);
        var random = new Random(request.Seed);
        var order = Enumerable.Range(0, ids.Length).ToArray();
        var cursor = order.Length;
        var curve = new List<(int, double, double)>();
        var bestStep = 0;
        var bestAccuracy = double.NegativeInfinity;
        float[] bestWatch = [];
        for (var step = 1; step <= Options.Steps; step++)
        {
            model.train();
            var batch = new List<int>(Options.BatchSize);
            while (batch.Count < Math.Min(Options.BatchSize, ids.Length))
            {
                if (cursor == order.Length) { random.Shuffle(order); cursor = 0; }
                batch.Add(order[cursor++]);
            }
            double loss;
            using (NewDisposeScope())
            {
                var (x, lengths, _) = LoraFineTuner.Collate(batch.Select(i => new LabelledIds(ids[i], 0)).ToList(), 0, model.Body.ContextLength);
                var targets = tensor(batch.SelectMany(i => new[] { 1 - request.Class1Targets[i], request.Class1Targets[i] }).ToArray()).view(batch.Count, 2);
                optimizer.zero_grad();
                // Progress is counted before the step, so α starts at 0 and reaches its maximum at the warm-up's end.
                var l = WeakToStrongLoss.Compute(request.Loss, model.Forward(x, lengths), targets, (step - 1) / (double)Options.Steps);
                l.backward();
                optimizer.step();
                loss = l.item<float>();
            }
            if (step == Options.Steps || (Options.EvalEvery > 0 && step % Options.EvalEvery == 0))
            {
                var accuracy = request.ValidationTexts.Count == 0 ? double.NaN
                    : ClassifierMetrics.Accuracy(classifier.PredictClass1(request.ValidationTexts), request.ValidationLabels);
                curve.Add((step, loss, accuracy));
                if (accuracy > bestAccuracy || bestStep == 0)
                {
                    bestAccuracy = accuracy;
                    bestStep = step;
                    bestWatch = classifier.PredictClass1(request.WatchTexts);
                }
            }
        }
        return new ClassifierTrainingOutcome(classifier, bestStep, bestAccuracy, bestWatch, curve);
    }

    /// <summary>Frees the pretrained weights.</summary>
    public void Dispose()
    {
        if (pretrained == null) return;
        foreach (var t in pretrained.Values) t.Dispose();
        pretrained = null;
    }
}

/// <summary>A <see cref="SequenceClassificationModel"/> reading byte ids as an <see cref="ITextClassifier"/>.</summary>
public sealed class GptTextClassifier(SequenceClassificationModel model, Func<string, int[]> encode) : ITextClassifier
{
    /// <summary>The underlying model.</summary>
    public SequenceClassificationModel Model => model;

    /// <inheritdoc/>
    public float[] PredictClass1(IReadOnlyList<string> texts)
    {
        model.eval();
        using var _ = no_grad();
        var result = new float[texts.Count];
        for (var start = 0; start < texts.Count; start += 64)
        {
            using var scope = NewDisposeScope();
            var batch = texts.Skip(start).Take(64).Select(t => new LabelledIds(encode(t), 0)).ToList();
            var (x, lengths, _) = LoraFineTuner.Collate(batch, 0, model.Body.ContextLength);
            var p = model.Forward(x, lengths).softmax(1)[.., 1].contiguous().data<float>().ToArray();
            p.CopyTo(result, start);
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => model.Dispose();
}

using Farabi.Data;
using Farabi.Lora;
using Farabi.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Farabi.Research.WeakToStrong;

/// <summary>How a <see cref="GptClassifierFamily"/> trains its classifiers.</summary>
/// <param name="PretrainSteps">Next-token steps on the pretraining text before any classification (0: random init).</param>
/// <param name="PretrainChars">Size of the built-in stories in the default corpus (used when no <see cref="GptPretrainingCorpus"/> is given).</param>
/// <param name="Steps">Classification steps per training run.</param>
/// <param name="BatchSize">Examples per step.</param>
/// <param name="LearningRate">Peak AdamW learning rate (annealed along a cosine to zero).</param>
/// <param name="EvalEvery">Steps between validation checks (the end is always checked).</param>
/// <param name="LoraRank">0: full fine-tuning; otherwise LoRA of this rank on all linear layers (the head trained fully).</param>
/// <param name="MaxTokens">Texts are cut to their first this many BPE tokens.</param>
public sealed record GptFamilyOptions(int PretrainSteps = 200, int PretrainChars = 60_000, int Steps = 400, int BatchSize = 32,
    double LearningRate = 2e-3, int EvalEvery = 50, int LoraRank = 0, int MaxTokens = 96);

/// <summary>
/// Farabi GPT-2 models of one size as binary text classifiers: a GPT-2 over a BPE vocabulary pretrained briefly on a
/// <see cref="GptPretrainingCorpus"/> (built-in stories plus the task's unlabelled training texts), then a
/// zero-initialised head on the last token (<see cref="SequenceClassificationModel"/>) fine-tuned fully or with LoRA on
/// soft targets with a <see cref="StudentLoss"/>. Larger sizes are the stronger models.
/// </summary>
public sealed class GptClassifierFamily : IClassifierFamily, IDisposable
{
    readonly Gpt2Config config;
    readonly GptPretrainingCorpus corpus;
    readonly SharedWeights shared;
    bool disposed;

    /// <summary>Pretrained weights shared by the families that <see cref="WithOptions"/> derives (freed with the last one).</summary>
    sealed class SharedWeights
    {
        public Dictionary<string, Tensor>? Weights;
        public int Users = 1;
    }

    /// <summary>
    /// A family named <paramref name="name"/> of GPT-2 models shaped by <paramref name="config"/> over
    /// <paramref name="corpus"/>'s vocabulary (the built-in stories alone when null).
    /// </summary>
    /// <exception cref="ArgumentException">The config's vocabulary size is not the corpus tokenizer's.</exception>
    public GptClassifierFamily(string name, Gpt2Config config, GptFamilyOptions? options = null, GptPretrainingCorpus? corpus = null)
    {
        Options = options ?? new GptFamilyOptions();
        this.corpus = corpus ?? GptPretrainingCorpus.Create([], storyChars: Options.PretrainChars);
        if (config.VocabSize != this.corpus.Tokenizer.VocabSize)
            throw new ArgumentException($"vocab_size {config.VocabSize} does not match the corpus vocabulary of {this.corpus.Tokenizer.VocabSize} tokens.");
        Name = name;
        this.config = config;
        shared = new SharedWeights();
    }

    GptClassifierFamily(GptClassifierFamily source, GptFamilyOptions options)
    {
        (Name, config, corpus, shared, Options) = (source.Name, source.config, source.corpus, source.shared, options);
        shared.Users++;
    }

    /// <summary>
    /// The same model size with other fine-tuning settings (e.g. fewer steps as a weak supervisor), sharing this family's
    /// pretrained weights so that a size pretrains once however many roles it plays.
    /// </summary>
    /// <exception cref="ArgumentException">Different pretraining steps (the weights would differ).</exception>
    public GptClassifierFamily WithOptions(GptFamilyOptions options)
    {
        if (options.PretrainSteps != Options.PretrainSteps || options.PretrainChars != Options.PretrainChars)
            throw new ArgumentException("A derived family must pretrain exactly like its source to share its weights.");
        return new GptClassifierFamily(this, options);
    }

    /// <summary>The shared pretraining corpus and vocabulary.</summary>
    public GptPretrainingCorpus Corpus => corpus;

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The training settings.</summary>
    public GptFamilyOptions Options { get; }

    /// <summary>The model shape.</summary>
    public Gpt2Config Config => config;

    /// <summary>
    /// The preset sizes: <c>gpt-tiny</c> (1 layer, width 32), <c>gpt-small</c> (2 layers, 48), <c>gpt-medium</c>
    /// (3 layers, 64), <c>gpt-large</c> (4 layers, 96). One layer can only weigh the words it sees (the synthetic task's
    /// shortcut); two or more can compose <c>not</c> with the next word. The sizes stop at 4×96 because, in the few
    /// hundred steps a CPU sweep affords, wider models (4×128 was tried) learned more slowly than these and ended below
    /// them. Dropout is off so seeds reproduce exactly.
    /// </summary>
    public static GptClassifierFamily Preset(string name, GptFamilyOptions? options = null, GptPretrainingCorpus? corpus = null)
    {
        options ??= new GptFamilyOptions();
        corpus ??= GptPretrainingCorpus.Create([], storyChars: options.PretrainChars);
        var (layers, width, heads) = name switch
        {
            "gpt-tiny" or "tiny" => (1, 32, 2),
            "gpt-small" or "small" => (2, 48, 4),
            "gpt-medium" or "medium" => (3, 64, 4),
            "gpt-large" or "large" => (4, 96, 4),
            _ => throw new ArgumentException($"Unknown model '{name}'; expected gpt-tiny, gpt-small, gpt-medium or gpt-large."),
        };
        var config = new Gpt2Config
        {
            VocabSize = corpus.Tokenizer.VocabSize, NPositions = Math.Max(128, options.MaxTokens), NEmbd = width, NLayer = layers, NHead = heads,
            ResidPdrop = 0, EmbdPdrop = 0, AttnPdrop = 0, BosTokenId = corpus.EndOfTextId, EosTokenId = corpus.EndOfTextId,
        };
        return new GptClassifierFamily(name.StartsWith("gpt-", StringComparison.Ordinal) ? name : "gpt-" + name, config, options, corpus);
    }

    /// <summary>The preset names, weakest first.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["gpt-tiny", "gpt-small", "gpt-medium", "gpt-large"];

    int[] Encode(string text) => corpus.Encode(text, Options.MaxTokens);

    /// <summary>Pretrains once (seed fixed per family, so every run starts from the same weights) and keeps a copy.</summary>
    Dictionary<string, Tensor> Pretrained()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (shared.Weights != null) return shared.Weights;
        using var lm = config.CreateModel(seed: 1234);
        if (Options.PretrainSteps > 0)
        {
            var tokens = corpus.TokenStream();
            foreach (var _ in LoraFineTuner.TrainLanguageModel(lm, tokens, [], 64,
                         new FineTuneOptions(Steps: Options.PretrainSteps, BatchSize: 16, LearningRate: 3e-3, Seed: 1234, EvalEvery: 0))) { }
        }
        shared.Weights = lm.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        return shared.Weights;
    }

    /// <inheritdoc/>
    public ClassifierTrainingOutcome Train(ClassifierTrainingRequest request)
    {
        if (request.Texts.Count == 0) throw new ArgumentException("The training set is empty.");
        if (request.Texts.Count != request.Class1Targets.Count) throw new ArgumentException($"{request.Texts.Count} texts for {request.Class1Targets.Count} targets.");
        var weights = Pretrained();
        var lm = config.CreateModel(seed: request.Seed);
        using (no_grad()) lm.load_state_dict(weights);
        var model = new SequenceClassificationModel(lm, 2, padTokenId: corpus.EndOfTextId);
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
        using var optimizer = optim.AdamW(parameters, lr: PeakLearningRate, weight_decay: 0.0);
        var random = new Random(request.Seed);
        var order = Enumerable.Range(0, ids.Length).ToArray();
        var cursor = order.Length;
        var tracker = new BestStepTracker(request, classifier);
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
                var (x, lengths, _) = LoraFineTuner.Collate(batch.Select(i => new LabelledIds(ids[i], 0)).ToList(), model.PadTokenId, model.Body.ContextLength);
                var targets = tensor(batch.SelectMany(i => new[] { 1 - request.Class1Targets[i], request.Class1Targets[i] }).ToArray()).view(batch.Count, 2);
                // Cosine annealing to zero, as the reference's train_simple.py: the end-of-training model is the settled one.
                foreach (var group in optimizer.ParamGroups) group.LearningRate = CosineLearningRate(step);
                optimizer.zero_grad();
                // Progress is counted before the step, so α starts at 0 and reaches its maximum at the warm-up's end.
                var l = WeakToStrongLoss.Compute(request.Loss, model.Forward(x, lengths), targets, (step - 1) / (double)Options.Steps);
                l.backward();
                optimizer.step();
                loss = l.item<float>();
            }
            if (step == Options.Steps || (Options.EvalEvery > 0 && step % Options.EvalEvery == 0)) tracker.Check(step, loss);
        }
        return tracker.Outcome();
    }

    /// <summary>The learning rate of step <paramref name="step"/> (1-based): <see cref="GptFamilyOptions.LearningRate"/> annealed along a half cosine to 0 after the last step.</summary>
    public double CosineLearningRate(int step) => PeakLearningRate * 0.5 * (1 + Math.Cos(Math.PI * (step - 1) / Options.Steps));

    /// <summary>
    /// <see cref="GptFamilyOptions.LearningRate"/> scaled by 64/width for models wider than 64 (the μP rule for hidden
    /// weights under Adam), so one --lr suits every size: at 2e-3 a 4×128 model stalled where a 64-wide one learned.
    /// </summary>
    public double PeakLearningRate => Options.LearningRate * 64 / Math.Max(64, config.NEmbd);

    /// <summary>Frees the pretrained weights once no derived family uses them.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (--shared.Users > 0 || shared.Weights == null) return;
        foreach (var t in shared.Weights.Values) t.Dispose();
        shared.Weights = null;
    }
}

/// <summary>A <see cref="SequenceClassificationModel"/> reading token ids as an <see cref="ITextClassifier"/>.</summary>
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
            var (x, lengths, _) = LoraFineTuner.Collate(batch, model.PadTokenId, model.Body.ContextLength);
            var p = model.Forward(x, lengths).softmax(1)[.., 1].contiguous().data<float>().ToArray();
            p.CopyTo(result, start);
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => model.Dispose();
}

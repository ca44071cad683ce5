using Farabi.Towers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Research.WeakToStrong;

/// <summary>How a <see cref="TowerProbeFamily"/> trains its probes.</summary>
/// <param name="Hidden">0: a linear probe (the paper's linear-probe setting); otherwise one ReLU layer of this width.</param>
/// <param name="Steps">Training steps per probe.</param>
/// <param name="BatchSize">Examples per step.</param>
/// <param name="LearningRate">Peak AdamW learning rate, annealed along a cosine to zero.</param>
/// <param name="EvalEvery">Steps between validation checks (the end is always checked).</param>
public sealed record ProbeOptions(int Hidden = 0, int Steps = 300, int BatchSize = 32, double LearningRate = 1e-2, int EvalEvery = 50);

/// <summary>
/// A frozen pretrained text tower (all-MiniLM-L6-v2 by default) with a probe trained on its sentence embeddings: the
/// linear-probe setting of Burns et al. (2023), where the strong model's knowledge lives in a representation that
/// training only reads out. Each distinct text is embedded once per family (and once per machine through
/// <see cref="EmbeddingCache"/>); probes train in TorchSharp with the same <see cref="StudentLoss"/>es as the GPTs.
/// </summary>
public sealed class TowerProbeFamily : IClassifierFamily, IDisposable
{
    readonly ITextEmbedder embedder;
    readonly EmbeddingCache? cache;
    readonly bool ownsEmbedder;
    readonly Dictionary<string, float[]> embedded = new(StringComparer.Ordinal);

    /// <summary>
    /// A family named <paramref name="name"/> over <paramref name="embedder"/>; embeddings go through
    /// <paramref name="cache"/> when given. The family disposes the embedder when <paramref name="ownsEmbedder"/>.
    /// </summary>
    public TowerProbeFamily(string name, ITextEmbedder embedder, ProbeOptions? options = null, EmbeddingCache? cache = null, bool ownsEmbedder = true)
    {
        Name = name;
        this.embedder = embedder;
        this.cache = cache;
        this.ownsEmbedder = ownsEmbedder;
        Options = options ?? new ProbeOptions();
        if (Options.Steps < 1) throw new ArgumentException($"A probe needs at least one step, not {Options.Steps}.");
    }

    /// <summary>
    /// <c>minilm-probe</c> (linear) or <c>minilm-mlp</c> (one hidden layer of 256) over all-MiniLM-L6-v2 with the
    /// on-disk embedding cache.
    /// </summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static TowerProbeFamily MiniLm(string name, ProbeOptions? options = null, EmbeddingCache? cache = null)
    {
        options ??= new ProbeOptions();
        options = name switch
        {
            "minilm-probe" => options with { Hidden = 0 },
            "minilm-mlp" => options with { Hidden = options.Hidden > 0 ? options.Hidden : 256 },
            _ => throw new ArgumentException($"Unknown tower model '{name}'; expected minilm-probe or minilm-mlp."),
        };
        return new TowerProbeFamily(name, new MiniLmEncoder(), options, cache ?? new EmbeddingCache());
    }

    /// <summary>The names <see cref="MiniLm"/> accepts.</summary>
    public static IReadOnlyList<string> MiniLmNames { get; } = ["minilm-probe", "minilm-mlp"];

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The probe's training settings.</summary>
    public ProbeOptions Options { get; }

    /// <summary>Hears how many new texts are being embedded (embedding is the slow part on a CPU).</summary>
    public Action<string>? Progress { get; set; }

    /// <summary>The embeddings of <paramref name="texts"/> as a <c>[n, dimension]</c> tensor; new texts are embedded once.</summary>
    public Tensor Embed(IReadOnlyList<string> texts)
    {
        var missing = texts.Where(t => !embedded.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            Progress?.Invoke($"{embedder.Name}: embedding {missing.Count} texts");
            var vectors = cache is null ? embedder.Embed(missing) : cache.Embed(embedder, missing);
            for (var i = 0; i < missing.Count; i++) embedded[missing[i]] = vectors[i];
        }
        var flat = new float[texts.Count * embedder.Dimension];
        for (var i = 0; i < texts.Count; i++) embedded[texts[i]].CopyTo(flat, i * embedder.Dimension);
        return tensor(flat).view(texts.Count, embedder.Dimension);
    }

    /// <summary>The learning rate of step <paramref name="step"/> (1-based): the peak annealed along a half cosine.</summary>
    public double CosineLearningRate(int step) => Options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (step - 1) / Options.Steps));

    /// <inheritdoc/>
    public ClassifierTrainingOutcome Train(ClassifierTrainingRequest request)
    {
        if (request.Texts.Count == 0) throw new ArgumentException("The training set is empty.");
        if (request.Texts.Count != request.Class1Targets.Count) throw new ArgumentException($"{request.Texts.Count} texts for {request.Class1Targets.Count} targets.");
        Farabi.Native.GlibcxxCompat.EnsureLoadable();
        using var x = Embed(request.Texts);
        var classifier = new ProbeClassifier(new Probe(embedder.Dimension, Options.Hidden, request.Seed), this);
        try
        {
            return Fit(classifier, x, request);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    ClassifierTrainingOutcome Fit(ProbeClassifier classifier, Tensor x, ClassifierTrainingRequest request)
    {
        var probe = classifier.Probe;
        using var optimizer = optim.AdamW(probe.parameters(), lr: Options.LearningRate, weight_decay: 0.0);
        var random = new Random(request.Seed);
        var order = Enumerable.Range(0, request.Texts.Count).ToArray();
        var cursor = order.Length;
        var tracker = new BestStepTracker(request, classifier);
        for (var step = 1; step <= Options.Steps; step++)
        {
            var batch = new List<long>(Options.BatchSize);
            while (batch.Count < Math.Min(Options.BatchSize, order.Length))
            {
                if (cursor == order.Length) { random.Shuffle(order); cursor = 0; }
                batch.Add(order[cursor++]);
            }
            double loss;
            using (NewDisposeScope())
            {
                probe.train();
                var targets = tensor(batch.SelectMany(i => new[] { 1 - request.Class1Targets[(int)i], request.Class1Targets[(int)i] }).ToArray()).view(batch.Count, 2);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = CosineLearningRate(step);
                optimizer.zero_grad();
                var l = WeakToStrongLoss.Compute(request.Loss, probe.call(x.index_select(0, tensor(batch.ToArray()))), targets, (step - 1) / (double)Options.Steps);
                l.backward();
                optimizer.step();
                loss = l.item<float>();
            }
            if (step == Options.Steps || (Options.EvalEvery > 0 && step % Options.EvalEvery == 0)) tracker.Check(step, loss);
        }
        return tracker.Outcome();
    }

    /// <summary>Disposes the tower if this family owns it.</summary>
    public void Dispose()
    {
        if (ownsEmbedder) embedder.Dispose();
    }

    /// <summary>A linear layer, or one ReLU hidden layer and a linear layer, on the frozen embedding.</summary>
    sealed class Probe : nn.Module<Tensor, Tensor>
    {
        readonly Linear? hidden;
        readonly Linear output;

        public Probe(int dimension, int hiddenWidth, int seed) : base(nameof(Probe))
        {
            // The seed fixes the initialisation, so a probe run reproduces exactly.
            using (var _ = NewDisposeScope())
            {
                torch.manual_seed(seed);
                if (hiddenWidth > 0) hidden = nn.Linear(dimension, hiddenWidth);
                output = nn.Linear(hiddenWidth > 0 ? hiddenWidth : dimension, 2);
            }
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => output.call(hidden is null ? input : nn.functional.relu(hidden.call(input)));
    }

    /// <summary>A probe over this family's embeddings as an <see cref="ITextClassifier"/>.</summary>
    sealed class ProbeClassifier(Probe probe, TowerProbeFamily family) : ITextClassifier
    {
        public Probe Probe => probe;

        public float[] PredictClass1(IReadOnlyList<string> texts)
        {
            if (texts.Count == 0) return [];
            probe.eval();
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            return probe.call(family.Embed(texts)).softmax(1)[.., 1].contiguous().data<float>().ToArray();
        }

        public void Dispose() => probe.Dispose();
    }
}

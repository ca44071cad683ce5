using Farabi.Generation;
using Farabi.Lora;
using Farabi.Models;
using static TorchSharp.torch;

namespace Farabi.Research.FineTuning;

/// <summary>A text the larger model wrote: the label its prompt asked for and the label its own classifier gave it.</summary>
/// <param name="Text">The generated text (prompt prefix removed).</param>
/// <param name="PromptedLabel">The class whose prefix started the generation.</param>
/// <param name="Label">The class the larger model's classifier assigns: the label the small model trains on.</param>
/// <param name="Confidence">The classifier's probability for <paramref name="Label"/>.</param>
public sealed record GeneratedExample(string Text, int PromptedLabel, int Label, double Confidence);

/// <summary>Sizes and rates of the generated-data experiment.</summary>
/// <param name="GeneratorSteps">Steps that teach the larger LM to continue a label prefix ("positive: ...").</param>
/// <param name="LabellerSteps">Steps of full fine-tuning of the larger model's classifier on real labels.</param>
/// <param name="StudentSteps">LoRA steps of the small model (on generated, and separately on real examples).</param>
/// <param name="BatchSize">Examples (or sequences) per step.</param>
/// <param name="GeneratedCount">Examples to generate.</param>
/// <param name="MaxNewTokens">Longest generated text, tokens.</param>
/// <param name="Temperature">Sampling temperature.</param>
/// <param name="TopK">Top-k of sampling (0: off).</param>
/// <param name="StudentRank">LoRA rank of the small model.</param>
/// <param name="Seed">Fixes data order, initialisation and sampling.</param>
public sealed record GeneratedDataOptions(int GeneratorSteps = 300, int LabellerSteps = 300, int StudentSteps = 300, int BatchSize = 32,
    int GeneratedCount = 400, int MaxNewTokens = 32, double Temperature = 1.0, int TopK = 50, int StudentRank = 4, long Seed = 1337);

/// <summary>What the generated-data experiment found.</summary>
/// <param name="Examples">The generated, self-labelled examples.</param>
/// <param name="LabellerAccuracy">The larger model's classifier on the real evaluation set.</param>
/// <param name="PromptAgreement">Share of generated texts whose classifier label equals the prompted label.</param>
/// <param name="OnGenerated">The small model, LoRA-tuned on the generated examples only.</param>
/// <param name="OnReal">The same small model, LoRA-tuned on as many real labelled examples.</param>
/// <param name="TrueLabelAccuracy">Where the task has a rule that gives any text its true class (the built-in
/// synthetic task): the share of generated labels that match it, over the texts the rule decides; else null.</param>
/// <param name="RuleDecided">How many generated texts the rule gave a class (ties have none).</param>
public sealed record GeneratedDataResult(IReadOnlyList<GeneratedExample> Examples, double LabellerAccuracy, double PromptAgreement,
    FineTuningResult OnGenerated, FineTuningResult OnReal, double? TrueLabelAccuracy = null, int RuleDecided = 0);

/// <summary>
/// Fine-tuning on generated data: a larger model writes labelled examples, a smaller one learns from them alone.
/// The larger pretrained LM is first taught to continue a label prefix (<c>positive:</c> / <c>negative:</c>), is
/// prompted with each prefix in turn and sampled, and its own fine-tuned classifier labels what it wrote (the
/// prompt is a request, the classifier decides, as in self-labelling pipelines such as Schick and Schütze 2021,
/// "Generating Datasets with Pretrained Language Models"). The small model is then fine-tuned with LoRA on those
/// examples and compared with the same small model fine-tuned on the same number of real labelled examples.
/// </summary>
public static class GeneratedDataFineTuning
{
    /// <summary>The prefix that asks for class <paramref name="label"/> (<c>negative:</c>, <c>positive:</c>, else <c>class N:</c>).</summary>
    public static string Prefix(int label, int numLabels) => numLabels == 2 ? (label == 1 ? "positive:" : "negative:") : $"class {label}:";

    /// <summary>
    /// A copy of the larger LM fine-tuned (every weight) on <c>&lt;eot&gt; prefix text</c> sequences of the real
    /// training examples, so that a prefix prompt yields a text of that class.
    /// </summary>
    public static Gpt2LMHeadModel TrainGenerator(PretrainedBase large, IReadOnlyList<TextExample> train, int numLabels, FineTuneOptions options,
        Action<FineTuneStep>? onStep = null)
    {
        var tokens = new List<int> { large.EndOfTextId };
        foreach (var e in train)
        {
            tokens.AddRange(large.Tokenizer.EncodeOrdinary(Prefix(e.Label, numLabels) + " " + e.Text));
            tokens.Add(large.EndOfTextId);
        }
        var model = large.CopyLanguageModel();
        var sequence = Math.Min(model.ContextLength, tokens.Count - 1);
        foreach (var step in LoraFineTuner.TrainLanguageModel(model, [.. tokens], [], sequence, options with { EvalEvery = 0 }))
            onStep?.Invoke(step);
        model.eval();
        return model;
    }

    /// <summary>
    /// Samples <paramref name="count"/> texts from <paramref name="generator"/>, the prompts cycling through the
    /// class prefixes; returns each text with the class it was prompted for (empty texts are dropped).
    /// </summary>
    public static List<(string Text, int PromptedLabel)> Generate(CausalLanguageModel generator, PretrainedBase large, int numLabels, int count,
        GeneratedDataOptions options, Action<int>? onExample = null)
    {
        var result = new List<(string, int)>(count);
        var stop = new HashSet<int> { large.EndOfTextId };
        for (var i = 0; i < count; i++)
        {
            var label = i % numLabels;
            var prompt = new List<int> { large.EndOfTextId };
            prompt.AddRange(large.Tokenizer.EncodeOrdinary(Prefix(label, numLabels)));
            var generated = TokenGenerator.Generate(generator, prompt, new GenerationOptions
            {
                MaxNewTokens = Math.Min(options.MaxNewTokens, generator.ContextLength - prompt.Count),
                Sampling = new SamplingOptions { Temperature = options.Temperature, TopK = options.TopK },
                StopTokens = stop,
                Seed = options.Seed + i,
            });
            var ids = generated.NewTokens.Where(t => t != large.EndOfTextId).ToArray();
            var text = large.Tokenizer.Decode(ids).Trim();
            if (text.Length > 0) result.Add((text, label));
            onExample?.Invoke(i + 1);
        }
        return result;
    }

    /// <summary>Labels <paramref name="texts"/> with <paramref name="classifier"/>: the argmax class and its probability.</summary>
    public static List<(int Label, double Confidence)> Label(SequenceClassificationModel classifier, PretrainedBase large, IReadOnlyList<string> texts, int batchSize = 32)
    {
        classifier.eval();
        using var _ = no_grad();
        var result = new List<(int, double)>(texts.Count);
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = texts.Skip(start).Take(batchSize).Select(t => new LabelledIds(NonEmpty(large.Encode(t), large.EndOfTextId), 0)).ToList();
            var (ids, lengths, _) = LoraFineTuner.Collate(batch, classifier.PadTokenId, classifier.Body.ContextLength);
            var probs = classifier.Forward(ids, lengths).softmax(1);
            var (p, index) = probs.max(1);
            var pv = p.data<float>().ToArray();
            var iv = index.data<long>().ToArray();
            for (var k = 0; k < batch.Count; k++) result.Add(((int)iv[k], pv[k]));
        }
        return result;
    }

    static int[] NonEmpty(int[] ids, int fallback) => ids.Length > 0 ? ids : [fallback];

    /// <summary>
    /// The whole experiment: teach <paramref name="large"/> to write and to label (on <paramref name="train"/>),
    /// generate and self-label examples, then fine-tune <paramref name="small"/> with LoRA on them and, for the
    /// baseline, on as many real examples of <paramref name="train"/>; both are evaluated on <paramref name="eval"/>.
    /// <paramref name="trueLabel"/>, when the task has one, gives any text its true class (null: undecided) and checks
    /// the generated labels. <paramref name="onStage"/> hears each stage's name; <paramref name="onStep"/> each training step.
    /// </summary>
    public static GeneratedDataResult Run(PretrainedBase large, PretrainedBase small, IReadOnlyList<TextExample> train, IReadOnlyList<TextExample> eval,
        GeneratedDataOptions options, Action<string>? onStage = null, Action<FineTuneStep>? onStep = null, Action<int>? onExample = null,
        Func<string, int?>? trueLabel = null)
    {
        var numLabels = train.Max(e => e.Label) + 1;
        if (numLabels < 2) throw new ArgumentException("The training set has a single label; classification needs two or more.");

        onStage?.Invoke("labeller: the larger model's classifier, every weight fine-tuned on real labels");
        double labellerAccuracy;
        List<(string Text, int PromptedLabel)> texts;
        List<(int Label, double Confidence)> labels;
        using (var labeller = large.NewClassifier(numLabels))
        {
            var full = FineTuningMethod.Parse("full");
            labellerAccuracy = FineTuningComparison.Train(labeller, full, large.Encode(train), large.Encode(eval),
                new FineTuneOptions(options.LabellerSteps, options.BatchSize, full.LearningRate, 0, options.Seed, EvalEvery: 0).WithWarmupAndDecay(), onStep).Accuracy;

            onStage?.Invoke("generator: the larger LM taught to continue a label prefix");
            using (var generator = TrainGenerator(large, train, numLabels, new FineTuneOptions(options.GeneratorSteps, options.BatchSize, 5e-4, 0, options.Seed), onStep))
            {
                onStage?.Invoke($"generating {options.GeneratedCount} examples");
                texts = Generate(generator, large, numLabels, options.GeneratedCount, options, onExample);
            }
            if (texts.Count == 0) throw new InvalidOperationException("The generator produced no non-empty text.");
            labels = Label(labeller, large, texts.Select(t => t.Text).ToList());
        }
        var examples = texts.Zip(labels, (t, l) => new GeneratedExample(t.Text, t.PromptedLabel, l.Label, l.Confidence)).ToList();
        var agreement = examples.Count(e => e.Label == e.PromptedLabel) / (double)examples.Count;

        var lora = FineTuningMethod.Parse($"lora_r{options.StudentRank}");
        var studentOptions = new FineTuneOptions(options.StudentSteps, options.BatchSize, lora.LearningRate, 0, options.Seed, EvalEvery: 0).WithWarmupAndDecay();
        var evalIds = small.Encode(eval);
        onStage?.Invoke($"student on {examples.Count} generated examples (LoRA r={options.StudentRank})");
        FineTuningResult onGenerated, onReal;
        using (var student = small.NewClassifier(numLabels))
            onGenerated = FineTuningComparison.Train(student, lora with { Name = "generated" }, small.Encode(examples.Select(e => new TextExample(e.Text, e.Label))), evalIds, studentOptions, onStep);
        onStage?.Invoke($"student on {examples.Count} real examples (LoRA r={options.StudentRank})");
        using (var student = small.NewClassifier(numLabels))
            onReal = FineTuningComparison.Train(student, lora with { Name = "real" }, small.Encode(ClassificationData.Sample(train, examples.Count, (int)options.Seed)), evalIds, studentOptions, onStep);
        var decided = trueLabel == null ? [] : examples.Select(e => (e.Label, Truth: trueLabel(e.Text))).Where(x => x.Truth != null).ToList();
        double? trueAccuracy = decided.Count == 0 ? null : decided.Count(x => x.Label == x.Truth) / (double)decided.Count;
        return new GeneratedDataResult(examples, labellerAccuracy, agreement, onGenerated, onReal, trueAccuracy, decided.Count);
    }
}

using Farabi.IO;
using Farabi.Lora;
using Farabi.Models;
using Farabi.Tests.Models;
using Xunit;
using static Farabi.Tests.Lora.LoraTestKit;
using static TorchSharp.torch;

namespace Farabi.Tests.Lora;

public class SequenceClassificationTests
{
    const int Pad = 0;

    static SequenceClassificationModel Classifier(long seed = 1)
    {
        var m = new SequenceClassificationModel(Gpt2(seed), numLabels: 3, padTokenId: Pad);
        m.eval();
        return m;
    }

    static void RandomHead(SequenceClassificationModel m)
    {
        using var _ = no_grad();
        m.score.weight!.normal_(0, 1);
    }

    [Fact]
    public void ZeroInitialisedHeadGivesUniformProbabilities()
    {
        using var model = Classifier();
        var ids = TinyModels.Ids(60, 4, 6) + 1;
        using var _ = no_grad();
        var logits = model.forward(ids);
        Assert.Equal([4L, 3L], logits.shape);
        var probs = logits.softmax(-1);
        Assert.True(MaxDiff(probs, full_like(probs, 1.0 / 3)) < 1e-7);
    }

    [Fact]
    public void PadPositionsDoNotAffectTheLogits()
    {
        using var model = Classifier();
        RandomHead(model);
        var text = tensor(new long[] { 5, 9, 12, 3, 44 }).unsqueeze(0);
        using var _ = no_grad();
        var alone = model.forward(text);
        // The same text padded on the right by 1 and 4 pads, batched with a longer sequence.
        var batch = tensor(new long[,] { { 5, 9, 12, 3, 44, Pad, Pad, Pad, Pad }, { 7, 8, 9, 10, 11, 12, 13, 14, 15 }, { 5, 9, 12, 3, 44, Pad, 0, 0, 0 } });
        var logits = model.forward(batch);
        Assert.True(MaxDiff(alone[0], logits[0]) < 1e-5);
        Assert.True(MaxDiff(alone[0], logits[2]) < 1e-5);
        // It reads the last real token: changing the last one changes the logits.
        var changed = model.forward(tensor(new long[] { 5, 9, 12, 3, 45 }).unsqueeze(0));
        Assert.True(MaxDiff(alone, changed) > 1e-4);
        // Explicit lengths give the same answer.
        Assert.True(MaxDiff(logits, model.Forward(batch, tensor(new long[] { 5, 9, 5 }))) < 1e-6);
    }

    [Fact]
    public void SavesWithHfNamesAndLoadsBack()
    {
        using var model = Classifier();
        RandomHead(model);
        var dir = TinyModels.TempDir();
        model.SaveHf(dir);
        using (var file = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors")))
        {
            Assert.Contains("score.weight", file.Entries.Keys);
            Assert.Contains("transformer.h.0.attn.c_attn.weight", file.Entries.Keys);
            Assert.DoesNotContain(file.Entries.Keys, k => k.StartsWith("lm_head"));
            Assert.Equal([3L, 24L], file.Entries["score.weight"].Shape);
        }
        Assert.True(SequenceClassificationModel.IsClassificationFolder(dir));
        using var loaded = SequenceClassificationModel.Load(dir);
        Assert.Equal("GPT2ForSequenceClassification", loaded.Architecture);
        Assert.Equal(3, loaded.NumLabels);
        var ids = TinyModels.Ids(60, 2, 6) + 1;
        using var _ = no_grad();
        Assert.True(MaxDiff(model.forward(ids), loaded.forward(ids)) < 1e-6);
    }

    [Fact]
    public void LoraWithTheHeadInModulesToSaveSavesItUnderItsOwnName()
    {
        using var model = Classifier();
        var lora = LoraModel.Inject(model, new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = ["c_attn"], ModulesToSave = ["score"], TaskType = "SEQ_CLS" });
        Assert.Equal(2 * (2 * 24 + 72 * 2) + 3 * 24, lora.TrainableParameters);
        Assert.Contains("score.modules_to_save.default.weight", model.state_dict().Keys);
        Assert.Contains("score.original_module.weight", model.state_dict().Keys);
        // Train the copy: the original head stays zero, the output follows the copy.
        var copy = lora.SavedModules["score"].modules_to_save["default"];
        using (no_grad()) copy.parameters().First().normal_(0, 1);
        var ids = TinyModels.Ids(60, 2, 6) + 1;
        var adapted = Logits(model, ids);
        Assert.True(adapted.abs().max().item<float>() > 1e-3);
        Assert.Equal(0f, model.score.weight!.abs().max().item<float>());
        var state = lora.AdapterStateDict();
        Assert.Contains("base_model.model.score.weight", state.Keys);
        var dir = TinyModels.TempDir();
        lora.SaveAdapter(dir);

        using var fresh = Classifier();
        LoraModel.FromPretrained(fresh, dir);
        Assert.True(MaxDiff(adapted, Logits(fresh, ids)) < 1e-6);

        // Merged and unloaded, the head keeps the trained copy and the names are HF's again.
        lora.MergeAndUnload();
        Assert.True(MaxDiff(adapted, Logits(model, ids)) < 1e-5);
        Assert.Contains("score.weight", model.state_dict().Keys);
    }

    [Fact]
    public void LoraFineTuningLearnsASeparableTask()
    {
        using var model = Classifier();
        LoraModel.Inject(model, new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = ["c_attn"], ModulesToSave = ["score"] });
        var data = Enumerable.Range(0, 32).Select(i => new LabelledIds(i % 2 == 0 ? [5, 9, 12, 3] : [7, 30, 2], i % 2)).ToList();
        var steps = LoraFineTuner.TrainClassifier(model, data, data, new FineTuneOptions(Steps: 40, BatchSize: 8, LearningRate: 1e-2, EvalEvery: 0)).ToList();
        Assert.Equal(40, steps.Count);
        Assert.Equal(1.0, steps[^1].EvalAccuracy);
        Assert.True(steps[^1].Loss < steps[0].Loss);
        Assert.All(steps, s => Assert.True(s.StepMs > 0));
    }

    [Fact]
    public void HeadAndAdapterGetGradientsBodyDoesNot()
    {
        using var model = Classifier();
        model.train();
        var lora = LoraModel.Inject(model, new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = ["c_attn"], ModulesToSave = ["score"] });
        Perturb(lora); // a zero head or B = 0 would stop the gradient before it reaches the adapter
        using (no_grad()) lora.SavedModules["score"].modules_to_save["default"].parameters().First().normal_(0, 1);
        var ids = TinyModels.Ids(60, 4, 6) + 1;
        var loss = nn.functional.cross_entropy(model.forward(ids), tensor(new long[] { 0, 1, 2, 1 }));
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            var trains = name.Contains(".lora_") || name.StartsWith("score.modules_to_save");
            if (trains) Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, name);
            else Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0, name);
        }
    }
}

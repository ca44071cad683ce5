using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.IO;
using Farabi.Tokenizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farabi.Models;

/// <summary>
/// A causal language model's body with a linear head on the hidden state of each sequence's last non-pad token
/// (Hugging Face's <c>GPT2ForSequenceClassification</c> / <c>LlamaForSequenceClassification</c>): ids
/// <c>[B, T]</c> in, logits <c>[B, num_labels]</c> out. The head <c>score</c> has no bias and starts at zero, so
/// a fresh model predicts uniform probabilities and fine-tuning starts from the pretrained features alone.
/// </summary>
/// <remarks>
/// Parameter names are HF's: the body's (<c>transformer.*</c> for GPT-2, <c>model.*</c> for LLaMA) and
/// <c>score.weight</c>; the LM head is not part of this model. Sequences are padded on the right with
/// <see cref="PadTokenId"/>; the last token that is not the pad id is read (as HF does), or pass explicit lengths.
/// </remarks>
public sealed class SequenceClassificationModel : nn.Module<Tensor, Tensor>
{
    /// <summary>The classification head <c>[num_labels, hidden]</c>, no bias (HF <c>score</c>).</summary>
    public readonly Linear score;

    // Held in an array so TorchSharp's RegisterComponents does not register the whole LM (and its lm_head) as a child.
    readonly CausalLanguageModel[] body;

    /// <summary>Wraps <paramref name="body"/> with a zero-initialised head of <paramref name="numLabels"/> outputs.</summary>
    public SequenceClassificationModel(CausalLanguageModel body, int numLabels, int padTokenId) : base(nameof(SequenceClassificationModel))
    {
        if (numLabels < 1) throw new ArgumentException($"num_labels must be at least 1, got {numLabels}.");
        this.body = [body];
        NumLabels = numLabels;
        PadTokenId = padTokenId;
        foreach (var (name, child) in body.named_children())
            if (name != "lm_head") register_module(name, child);
        score = nn.Linear(body.Config.HiddenWidth, numLabels, hasBias: false);
        using (no_grad()) score.weight!.zero_();
        RegisterComponents();
    }

    /// <summary>The language model whose body computes the features (its LM head is unused).</summary>
    public CausalLanguageModel Body => body[0];

    /// <summary>Number of classes.</summary>
    public int NumLabels { get; }

    /// <summary>The id that pads sequences on the right.</summary>
    public int PadTokenId { get; }

    /// <summary>Logits <c>[B, num_labels]</c> for right-padded <paramref name="ids"/> <c>[B, T]</c>.</summary>
    public override Tensor forward(Tensor ids) => Forward(ids);

    /// <summary>
    /// Logits <c>[B, num_labels]</c> for <paramref name="ids"/> <c>[B, T]</c>, read at position
    /// <c>lengths - 1</c> when <paramref name="lengths"/> <c>[B]</c> is given, else at the last non-pad token.
    /// </summary>
    public Tensor Forward(Tensor ids, Tensor? lengths = null)
    {
        using var scope = NewDisposeScope();
        return score.call(LastHidden(ids, lengths)).MoveToOuterDisposeScope();
    }

    /// <summary>The hidden state <c>[B, C]</c> the head reads: at the last non-pad token, or at <c>lengths - 1</c>.</summary>
    public Tensor LastHidden(Tensor ids, Tensor? lengths = null)
    {
        using var scope = NewDisposeScope();
        var hidden = Body.Hidden(ids);
        var (b, t, c) = (hidden.shape[0], hidden.shape[1], hidden.shape[2]);
        Tensor last;
        if (lengths is not null) last = (lengths.to(ScalarType.Int64) - 1).clamp(0, t - 1);
        else
        {
            // The rightmost non-pad position (HF's rule): works for right padding and for pad ids inside the text.
            var positions = arange(t, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0);
            last = (positions * ids.ne(PadTokenId).to(ScalarType.Int64)).argmax(1);
        }
        var index = last.view(b, 1, 1).expand(b, 1, c);
        return hidden.gather(1, index).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>HF's architecture name for this body (<c>GPT2ForSequenceClassification</c>, ...).</summary>
    public string Architecture => Body.Config.ModelType switch
    {
        "gpt2" => "GPT2ForSequenceClassification",
        "llama" => "LlamaForSequenceClassification",
        var other => other + "ForSequenceClassification",
    };

    /// <summary>The HF <c>config.json</c>: the body's config with the classification architecture, labels and pad id.</summary>
    public JsonObject ConfigJson()
    {
        var json = Body.Config.ToJson();
        json["architectures"] = new JsonArray(Architecture);
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (var i = 0; i < NumLabels; i++)
        {
            id2label[i.ToString()] = $"LABEL_{i}";
            label2id[$"LABEL_{i}"] = i;
        }
        json["id2label"] = id2label;
        json["label2id"] = label2id;
        json["pad_token_id"] = PadTokenId;
        return json;
    }

    /// <summary>Writes an HF folder (<c>model.safetensors</c> + <c>config.json</c>) that loads as the HF classification model.</summary>
    public void SaveHf(string directory)
    {
        Directory.CreateDirectory(directory);
        Safetensors.Save(Path.Combine(directory, CausalLanguageModel.WeightsFileName), state_dict(), new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteText(Path.Combine(directory, CausalLanguageModel.ConfigFileName),
            ConfigJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Whether the HF folder <paramref name="directory"/> holds a sequence-classification model (by its <c>architectures</c>).</summary>
    public static bool IsClassificationFolder(string directory)
    {
        var path = Path.Combine(directory, CausalLanguageModel.ConfigFileName);
        if (!File.Exists(path)) return false;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o["architectures"] is JsonArray a
                && a.Any(n => n?.GetValue<string>().EndsWith("ForSequenceClassification", StringComparison.Ordinal) == true);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Loads a classification folder written by <see cref="SaveHf"/> (or by HF); the model is in eval mode.</summary>
    /// <exception cref="FormatException">The config is malformed.</exception>
    /// <exception cref="InvalidDataException">The weights do not fit the config.</exception>
    public static SequenceClassificationModel Load(string directory, bool strict = true)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        var configPath = Path.Combine(directory, CausalLanguageModel.ConfigFileName);
        var config = CausalLanguageModelConfig.Load(configPath);
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(configPath))!;
        var numLabels = json["id2label"] is JsonObject labels ? labels.Count
            : json["num_labels"] is JsonValue n ? n.GetValue<int>() : 2;
        var pad = json["pad_token_id"] is JsonValue p && p.TryGetValue<int>(out var pv) ? pv
            : json["eos_token_id"] is JsonValue e && e.TryGetValue<int>(out var ev) ? ev : 0;
        var weights = Path.Combine(directory, CausalLanguageModel.WeightsFileName);
        if (!File.Exists(weights)) throw new FileNotFoundException($"Model folder '{directory}' has no {CausalLanguageModel.WeightsFileName}.", weights);
        var model = new SequenceClassificationModel(config.CreateModel(), numLabels, pad);
        try
        {
            Safetensors.LoadInto(model, weights, strict, key => key == "lm_head.weight" ? null : key);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    /// <summary>Loads a causal LM folder and puts a fresh zero head of <paramref name="numLabels"/> classes on it.</summary>
    public static SequenceClassificationModel FromCausalLM(string directory, int numLabels, int? padTokenId = null)
    {
        var lm = CausalLanguageModel.Load(directory);
        var pad = padTokenId ?? (lm.Config as Gpt2Config)?.EosTokenId ?? 0;
        return new SequenceClassificationModel(lm, numLabels, pad);
    }
}

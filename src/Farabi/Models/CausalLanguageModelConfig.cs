using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Tokenizers;

namespace Farabi.Models;

/// <summary>
/// What every causal LM configuration says, whatever the architecture: its Hugging Face <c>model_type</c>,
/// vocabulary size, context length and depth. Saved as HF's <c>config.json</c> (HF field names), so a
/// folder written here loads with <c>AutoModelForCausalLM.from_pretrained</c> and the other way round.
/// </summary>
public abstract record CausalLanguageModelConfig
{
    /// <summary>HF's <c>model_type</c> (<c>gpt2</c>, <c>llama</c>).</summary>
    public abstract string ModelType { get; }

    /// <summary>Number of token ids the model embeds and predicts.</summary>
    public abstract int VocabSize { get; init; }

    /// <summary>The longest sequence the model accepts (learned positions or the trained RoPE range).</summary>
    public abstract int ContextLength { get; }

    /// <summary>Number of transformer blocks (and so of key-value cache layers).</summary>
    public abstract int NumLayers { get; }

    /// <summary>The width of the hidden states <see cref="CausalLanguageModel.Hidden"/> returns.</summary>
    public abstract int HiddenWidth { get; }

    /// <summary>Whether the output head shares its weight with the token embedding.</summary>
    public abstract bool TieWordEmbeddings { get; init; }

    /// <summary>HF <c>bos_token_id</c>: the id a prompt starts with when there is no text, if the model has one.</summary>
    public abstract int? BosTokenId { get; init; }

    /// <summary>HF <c>eos_token_id</c>: the end-of-text id, if the model has one.</summary>
    public abstract int? EosTokenId { get; init; }

    /// <summary>The HF <c>config.json</c> object for this configuration.</summary>
    public abstract JsonObject ToJson();

    /// <summary>Builds a freshly initialised model of this configuration.</summary>
    /// <param name="seed">Seeds the initialisation, so one seed gives the same weights.</param>
    public abstract CausalLanguageModel CreateModel(long seed = 1337);

    /// <summary>Writes <c>config.json</c> to <paramref name="path"/> atomically.</summary>
    public void Save(string path) =>
        AtomicFile.WriteText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>Reads an HF <c>config.json</c> and returns the configuration of its <c>model_type</c>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FormatException">Not JSON, or a field has the wrong type.</exception>
    /// <exception cref="NotSupportedException">A <c>model_type</c> or feature Farabi does not implement.</exception>
    public static CausalLanguageModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config '{path}' does not exist.", path);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new FormatException($"Model config '{path}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"Model config '{path}' is not valid JSON: {e.Message}");
        }
        return FromJson(json, path);
    }

    /// <summary>Parses a config object, dispatching on <c>model_type</c>; <paramref name="source"/> names it in errors.</summary>
    public static CausalLanguageModelConfig FromJson(JsonObject json, string source = "config.json")
    {
        var type = ConfigJson.Get<string>(json, "model_type", source, null)
            ?? throw new FormatException($"Model config '{source}' has no model_type.");
        return type switch
        {
            "gpt2" => Gpt2Config.FromJson(json, source),
            "llama" => LlamaConfig.FromJson(json, source),
            _ => throw new NotSupportedException($"Model config '{source}' has model_type '{type}'; Farabi reads gpt2 and llama."),
        };
    }
}

/// <summary>Typed access to config.json fields with errors that name the file and the key.</summary>
static class ConfigJson
{
    public static T Get<T>(JsonObject json, string key, string source, T fallback)
    {
        if (!json.TryGetPropertyValue(key, out var node) || node == null) return fallback;
        try
        {
            return node.GetValue<T>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new FormatException($"Model config '{source}': field '{key}' should be a {typeof(T).Name.ToLowerInvariant()}, got {node.ToJsonString()}.");
        }
    }

    public static int GetInt(JsonObject json, string key, string source, int fallback)
    {
        var d = Get<double>(json, key, source, fallback);
        if (d != Math.Floor(d) || d < 0 || d > int.MaxValue)
            throw new FormatException($"Model config '{source}': field '{key}' should be a non-negative integer, got {d}.");
        return (int)d;
    }

    public static int? GetOptionalInt(JsonObject json, string key, string source) =>
        json.TryGetPropertyValue(key, out var node) && node != null ? GetInt(json, key, source, 0) : null;
}

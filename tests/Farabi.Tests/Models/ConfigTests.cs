using System.Text.Json.Nodes;
using Farabi.Models;
using Xunit;

namespace Farabi.Tests.Models;

public class ConfigTests
{
    // openai-community/gpt2's config.json as published on the Hugging Face Hub (abridged task_specific_params).
    const string HubGpt2Config = """
    {
      "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
      "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
      "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
      "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": null,
      "summary_first_dropout": 0.1, "summary_proj_to_labels": true, "summary_type": "cls_index",
      "summary_use_proj": true, "task_specific_params": { "text-generation": { "do_sample": true, "max_length": 50 } },
      "vocab_size": 50257
    }
    """;

    [Fact]
    public void HubGpt2ConfigParsesToGpt2Small()
    {
        var config = CausalLanguageModelConfig.FromJson((JsonObject)JsonNode.Parse(HubGpt2Config)!);
        Assert.Equal(Gpt2Config.Small, config);
        Assert.Equal(1024, config.ContextLength);
        Assert.Equal(50256, config.EosTokenId);
    }

    [Fact]
    public void ConfigsRoundTripThroughConfigJson()
    {
        var dir = TinyModels.TempDir();
        foreach (CausalLanguageModelConfig config in new CausalLanguageModelConfig[] { TinyModels.Gpt2(tied: false), TinyModels.Llama(kvHeads: 1, tied: true), Gpt2Config.Medium })
        {
            var path = Path.Combine(dir, config.ModelType + ".json");
            config.Save(path);
            Assert.Equal(config, CausalLanguageModelConfig.Load(path));
        }
    }

    [Theory]
    [InlineData("{\"model_type\": \"bert\"}", typeof(NotSupportedException), "bert")]
    [InlineData("{\"n_embd\": 768}", typeof(FormatException), "model_type")]
    [InlineData("{\"model_type\": \"gpt2\", \"n_embd\": \"wide\"}", typeof(FormatException), "n_embd")]
    [InlineData("{\"model_type\": \"gpt2\", \"n_embd\": 100, \"n_head\": 12}", typeof(ArgumentException), "not divisible")]
    [InlineData("{\"model_type\": \"llama\", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}", typeof(NotSupportedException), "rope_scaling")]
    [InlineData("[1, 2]", typeof(FormatException), "not a JSON object")]
    public void BadConfigsNameTheProblem(string json, Type exception, string expected)
    {
        var path = Path.Combine(TinyModels.TempDir(), "config.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws(exception, () => CausalLanguageModelConfig.Load(path));
        Assert.Contains(expected, e.Message);
    }
}

using Farabi.Lora;
using Farabi.Models;
using Farabi.Tests.Models;
using static TorchSharp.torch;

namespace Farabi.Tests.Lora;

/// <summary>Helpers shared by the LoRA tests: tiny models, perturbed adapters, tensor comparisons.</summary>
static class LoraTestKit
{
    public static Gpt2LMHeadModel Gpt2(long seed = 1)
    {
        var m = new Gpt2LMHeadModel(TinyModels.Gpt2(), seed);
        m.eval();
        return m;
    }

    public static LlamaForCausalLM Llama(long seed = 1)
    {
        var m = new LlamaForCausalLM(TinyModels.Llama(), seed);
        m.eval();
        return m;
    }

    /// <summary>Gives every factor of adapter <paramref name="name"/> random values, so the adapter changes outputs.</summary>
    public static void Perturb(LoraModel lora, string name = "default", long seed = 3, double std = 0.2)
    {
        using var g = new Generator((ulong)seed, CPU);
        using var _ = no_grad();
        foreach (var layer in lora.Layers.Values)
        {
            if (!layer.Adapters.ContainsKey(name)) continue;
            var (a, b) = layer.Factors(name);
            a.normal_(0, std, g);
            b.normal_(0, std, g);
            if (layer is LoraLinear lin && lin.lora_magnitude_vector.Contains(name))
                lin.lora_magnitude_vector[name].weight.mul_(1.5);
        }
    }

    public static Tensor Logits(nn.Module<Tensor, Tensor> model, Tensor ids)
    {
        using var _ = no_grad();
        return model.forward(ids);
    }

    public static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    public static Dictionary<string, Tensor> Snapshot(nn.Module m) =>
        m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
}

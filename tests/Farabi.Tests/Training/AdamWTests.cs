using Farabi.Models;
using Farabi.Tests.Models;
using Farabi.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Training;

public sealed class AdamWTests
{
    [Fact]
    public void Weight_decay_applies_to_matrices_only_not_to_norms_biases_or_embeddings()
    {
        using var gpt = new Gpt2LMHeadModel(TinyModels.Gpt2());
        using var g = AdamW.ForModel(gpt, new TrainerOptions());
        Assert.Equal(
            ["transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.weight", "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_proj.weight",
             "transformer.h.1.attn.c_attn.weight", "transformer.h.1.attn.c_proj.weight", "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight"],
            g.Parameters.Where(p => p.Decay).Select(p => p.Name).Order());
        Assert.Contains(g.Parameters, p => p.Name == "transformer.wte.weight" && !p.Decay);
        Assert.Contains(g.Parameters, p => p.Name == "transformer.wpe.weight" && !p.Decay);
        Assert.All(g.Parameters.Where(p => p.Parameter.dim() == 1), p => Assert.False(p.Decay));

        using var llama = new LlamaForCausalLM(TinyModels.Llama());
        using var l = AdamW.ForModel(llama, new TrainerOptions());
        Assert.Contains(l.Parameters, p => p.Name == "model.embed_tokens.weight" && !p.Decay);
        Assert.Contains(l.Parameters, p => p.Name == "lm_head.weight" && p.Decay); // untied head: a linear layer
        Assert.All(l.Parameters.Where(p => p.Name.Contains("norm")), p => Assert.False(p.Decay));
    }

    [Fact]
    public void Updates_match_torch_optim_AdamW()
    {
        TinyModels.Ids(5, 1, 1); // loads libtorch through Farabi
        using var g = new Generator(3, CPU);
        var init = randn([6, 5], generator: g);
        var inputs = randn([8, 6], generator: g);
        var ours = new TorchSharp.Modules.Parameter(init.clone());
        var theirs = new TorchSharp.Modules.Parameter(init.clone());
        using var mine = new AdamW([("w", ours, true)], 0.9, 0.95, 1e-8, 0.1);
        var reference = optim.AdamW([theirs], lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1);
        for (var step = 0; step < 4; step++)
        {
            var lr = 0.01;
            mine.ZeroGrad();
            reference.zero_grad();
            (inputs.matmul(ours).tanh().sum()).backward();
            (inputs.matmul(theirs).tanh().sum()).backward();
            mine.Step(lr);
            reference.step();
        }
        Assert.True(allclose(ours, theirs, rtol: 1e-5, atol: 1e-6), "parameters differ from torch.optim.AdamW");
        Assert.False(allclose(ours, init), "the optimizer did not move the parameter");
    }
}

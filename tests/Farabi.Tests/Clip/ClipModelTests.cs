using Farabi.IO;
using Farabi.Models.Clip;
using Farabi.Research.Clip;
using Farabi.Vision;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.Clip;

public sealed class ClipModelTests
{
    static ClipConfig TinyConfig(string tower = "vit", int eos = -1) =>
        ClipConfig.Tiny(vocabSize: 20, contextLength: 8, imageSize: 16, patchSize: 8, width: 16, layers: 2, heads: 2, projectionDim: 12, tower: tower, eosTokenId: eos);

    static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    [Fact]
    public void Loss_is_symmetric_in_the_roles_of_images_and_texts()
    {
        _ = new ClipConfig(); // touch a Farabi type first so libtorch is loadable
        using var g = new Generator(3, CPU);
        using var logits = randn([5, 5], generator: g) * 3;
        var a = ClipModel.ContrastiveLoss(logits).item<float>();
        var b = ClipModel.ContrastiveLoss(logits.t()).item<float>();
        Assert.Equal(a, b, 5);
        // Hand value on a 2x2 case: rows (2, 0) and (1, 3); columns (2, 1) and (0, 3).
        using var small = tensor(new float[] { 2, 0, 1, 3 }, [2, 2]);
        double Ce(double right, double other) => -right + Math.Log(Math.Exp(right) + Math.Exp(other));
        var expected = ((Ce(2, 0) + Ce(3, 1)) / 2 + (Ce(2, 1) + Ce(3, 0)) / 2) / 2;
        Assert.Equal(expected, ClipModel.ContrastiveLoss(small).item<float>(), 5);
    }

    [Fact]
    public void Logit_scale_is_exp_of_the_parameter_clamped_at_100()
    {
        using var model = new ClipModel(TinyConfig());
        Assert.Equal(Math.Exp(2.6592), model.LogitScale().item<float>(), 3);
        using (no_grad()) model.logit_scale.fill_(10.0);
        Assert.Equal(100.0, model.LogitScale().item<float>(), 4);
        using (no_grad()) model.logit_scale.fill_(Math.Log(50));
        Assert.Equal(50.0, model.LogitScale().item<float>(), 3);
        using var pixels = rand([2, 3, 16, 16]);
        using var ids = Ids([18, 3, 19, 0, 0, 0, 0, 0], [18, 4, 5, 19, 0, 0, 0, 0]);
        using (no_grad()) model.logit_scale.fill_(10.0);
        using var output = model.Forward(pixels, ids);
        using var cos = output.ImageEmbeds.matmul(output.TextEmbeds.t());
        Assert.True(allclose(output.LogitsPerImage, cos * 100, 1e-4, 1e-4));
        Assert.True(allclose(output.ImageEmbeds.norm(1), ones(2), 1e-5, 1e-5), "image embeddings are unit norm");
    }

    [Fact]
    public void Hf_parameter_names_and_shapes()
    {
        using var model = new ClipModel(TinyConfig());
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = new Dictionary<string, long[]>
        {
            ["logit_scale"] = [],
            ["visual_projection.weight"] = [12, 16],
            ["text_projection.weight"] = [12, 16],
            ["vision_model.embeddings.class_embedding"] = [16],
            ["vision_model.embeddings.patch_embedding.weight"] = [16, 3, 8, 8],
            ["vision_model.embeddings.position_embedding.weight"] = [5, 16],
            ["vision_model.pre_layrnorm.weight"] = [16],
            ["vision_model.post_layernorm.bias"] = [16],
            ["vision_model.encoder.layers.1.self_attn.q_proj.weight"] = [16, 16],
            ["vision_model.encoder.layers.1.self_attn.out_proj.bias"] = [16],
            ["vision_model.encoder.layers.0.mlp.fc1.weight"] = [64, 16],
            ["vision_model.encoder.layers.0.mlp.fc2.weight"] = [16, 64],
            ["vision_model.encoder.layers.0.layer_norm1.weight"] = [16],
            ["vision_model.encoder.layers.0.layer_norm2.bias"] = [16],
            ["text_model.embeddings.token_embedding.weight"] = [20, 16],
            ["text_model.embeddings.position_embedding.weight"] = [8, 16],
            ["text_model.encoder.layers.1.self_attn.k_proj.bias"] = [16],
            ["text_model.final_layer_norm.weight"] = [16],
        };
        foreach (var (key, shape) in expected)
        {
            Assert.True(shapes.ContainsKey(key), $"missing {key}");
            Assert.Equal(shape, shapes[key]);
        }
        // 2 projections + scale + vision (3 embeddings + 2 pre + 2 post + 2 x 16) + text (2 + 2 x 16 + 2).
        Assert.Equal(3 + 7 + 32 + 2 + 32 + 2, shapes.Count);
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("position_ids"));
    }

    [Theory]
    [InlineData("vit")]
    [InlineData("cnn")]
    public void Save_and_load_round_trip_gives_identical_outputs(string tower)
    {
        var dir = Directory.CreateTempSubdirectory("farabi-clip-").FullName;
        try
        {
            using var model = new ClipModel(TinyConfig(tower), seed: 7);
            model.eval();
            model.Save(dir);
            using var loaded = ClipModel.Load(dir);
            loaded.eval();
            Assert.Equal(model.Config, loaded.Config with { });
            using var pixels = rand([3, 3, 16, 16]);
            using var ids = Ids([18, 3, 19, 0, 0, 0, 0, 0], [18, 4, 5, 19, 0, 0, 0, 0], [18, 6, 7, 8, 9, 19, 0, 0]);
            using var a = model.Forward(pixels, ids);
            using var b = loaded.Forward(pixels, ids);
            Assert.True(a.LogitsPerImage.equal(b.LogitsPerImage).all().item<bool>(), "loaded model gives the same logits");
            Assert.Equal(
                model.state_dict().Keys.Order(StringComparer.Ordinal),
                Safetensors.Load(Path.Combine(dir, ClipModel.WeightsFile)).Keys.Order(StringComparer.Ordinal));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Loads_an_hf_style_checkpoint_written_key_by_key_with_legacy_position_ids()
    {
        // A "foreign" checkpoint: random tensors written under HF's names (plus the position_ids buffers that
        // older transformers versions saved), and an HF config.json with the legacy eos_token_id 2.
        var dir = Directory.CreateTempSubdirectory("farabi-clip-hf-").FullName;
        try
        {
            var config = TinyConfig(eos: 2);
            using var reference = new ClipModel(config, seed: 11);
            reference.eval();
            var tensors = reference.state_dict().Select(kv => KeyValuePair.Create(kv.Key, kv.Value.clone())).ToList();
            tensors.Add(KeyValuePair.Create("text_model.embeddings.position_ids", arange(8L).unsqueeze(0)));
            tensors.Add(KeyValuePair.Create("vision_model.embeddings.position_ids", arange(5L).unsqueeze(0)));
            Safetensors.Save(Path.Combine(dir, "model.safetensors"), tensors);
            File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson().ToJsonString());
            using var loaded = ClipModel.Load(dir);
            loaded.eval();
            Assert.Equal(2, loaded.Config.Text.EosTokenId);
            using var pixels = rand([2, 3, 16, 16]);
            // Legacy pooling: at the largest id (19), wherever it is.
            using var ids = Ids([18, 3, 19, 0, 0, 0, 0, 0], [18, 4, 5, 6, 19, 0, 0, 0]);
            using var a = reference.Forward(pixels, ids);
            using var b = loaded.Forward(pixels, ids);
            Assert.True(a.LogitsPerImage.equal(b.LogitsPerImage).all().item<bool>());
            Assert.Equal([2L, 4L], loaded.text_model.EosPositions(ids).data<long>().ToArray());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Text_is_pooled_at_the_first_eos_and_ignores_what_follows()
    {
        using var model = new ClipModel(TinyConfig(eos: 19));
        model.eval();
        using var ids = Ids([18, 3, 4, 19, 0, 0, 0, 0], [18, 3, 4, 19, 7, 8, 19, 9]);
        Assert.Equal([3L, 3L], model.text_model.EosPositions(ids).data<long>().ToArray());
        using var _ = no_grad();
        using var e = model.EncodeText(ids);
        Assert.True(allclose(e[0], e[1], 1e-5, 1e-6), "causal attention and EOS pooling make later tokens irrelevant");
        using var other = Ids([18, 5, 4, 19, 0, 0, 0, 0]);
        using var f = model.EncodeText(other);
        Assert.False(allclose(e[0], f[0], 1e-4, 1e-5), "a different caption gives a different embedding");
    }

    [Fact]
    public void Config_json_has_hf_field_names_and_round_trips()
    {
        var config = TinyConfig();
        var json = config.ToJson();
        Assert.Equal("clip", json["model_type"]!.GetValue<string>());
        Assert.Equal(16, json["vision_config"]!["patch_size"]!.GetValue<int>() * 2);
        Assert.Equal(8, json["text_config"]!["max_position_embeddings"]!.GetValue<int>());
        Assert.Equal(config, ClipConfig.FromJson(json));
        var bad = config.ToJson();
        bad["vision_config"]!["image_size"] = 20;
        var e = Assert.Throws<InvalidDataException>(() => ClipConfig.FromJson(bad, "x/config.json"));
        Assert.Contains("image_size", e.Message);
    }

    [Fact]
    public void A_few_steps_on_tiny_data_make_matching_pairs_score_highest_on_the_diagonal()
    {
        string[] colours = ["red", "green", "blue", "yellow", "white", "black"];
        Rgb[] rgb = [new(220, 30, 30), new(30, 200, 40), new(30, 40, 220), new(230, 230, 20), new(250, 250, 250), new(5, 5, 5)];
        var images = rgb.Select(c => { var img = new RgbImage(16, 16); for (var y = 0; y < 16; y++) for (var x = 0; x < 16; x++) img[x, y] = c; return img; }).ToList();
        var captions = colours.Select(c => $"a {c} square").ToList();
        var tokenizer = CaptionWordTokenizer.Build(captions, 8);
        using var model = new ClipModel(ClipConfig.Tiny(tokenizer.VocabSize, 8, 16, 8, 32, 1, 2, 16), seed: 1);
        var scorer = new ClipScorer(model, tokenizer);
        var before = scorer.Similarity(images, captions);
        var losses = ClipTraining.Train(scorer, images, captions, new ClipTrainingOptions { Steps = 60, BatchSize = 6, LearningRate = 3e-3, WarmupSteps = 5, WeightDecay = 0 });
        Assert.True(losses[^1] < 0.5 * losses[0], $"loss fell from {losses[0]:F3} to {losses[^1]:F3}");
        var after = scorer.Similarity(images, captions);
        for (var i = 0; i < images.Count; i++)
            for (var j = 0; j < images.Count; j++)
                if (j != i) Assert.True(after[i, i] > after[i, j], $"image {i}: own caption {after[i, i]:F3} vs caption {j} {after[i, j]:F3}");
        Assert.NotEqual(before[0, 0], after[0, 0]);
    }
}

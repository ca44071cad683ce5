using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Farabi.IO;
using Farabi.Towers;
using Farabi.Vision;
using Farabi.Vision.Datasets;
using static TorchSharp.torch;

namespace Farabi.Cli;

/// <summary><c>farabi towers</c>: the frozen pretrained towers (MiniLM, ResNet18) on ONNX Runtime.</summary>
static class TowersCommands
{
    public static Command Create() => new("towers", "Frozen pretrained towers on ONNX Runtime: all-MiniLM-L6-v2 for text, ResNet18 for images.") { Embed() };

    static Command Embed()
    {
        var texts = new Option<string?>("--texts") { Description = "A UTF-8 text file: one text per line, embedded with all-MiniLM-L6-v2." };
        var cifar = new Option<string?>("--cifar10") { Description = "A CIFAR-10 binary batch (.bin or .bin.gz), embedded with ResNet18." };
        var images = new Option<string?>("--images") { Description = "A folder with one sub-folder of images per class, embedded with ResNet18." };
        var limit = new Option<int>("--limit") { Description = "Embed at most this many items (the first ones).", DefaultValueFactory = _ => int.MaxValue };
        var output = new Option<string?>("--out") { Description = "Also write the vectors (and labels, for images) to this safetensors file." };
        var cache = new Option<string?>("--cache") { Description = "Cache folder (default $FARABI_CACHE/embeddings or ~/.cache/farabi/embeddings)." };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads (0 = one per core).", DefaultValueFactory = _ => 1 };
        var command = new Command("embed", "Embed texts or images with a frozen tower into the shared embedding cache (and optionally a file).")
            { texts, cifar, images, limit, output, cache, threads };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            string? textPath = parse.GetValue(texts), cifarPath = parse.GetValue(cifar), folder = parse.GetValue(images);
            if (new[] { textPath, cifarPath, folder }.Count(p => p is not null) != 1)
                throw new UserError("Give exactly one of --texts, --cifar10 or --images.");
            int max = parse.GetValue(limit);
            if (max < 1) throw new UserError($"--limit must be at least 1, got {max}.");
            var store = new EmbeddingCache(parse.GetValue(cache));
            int n;
            string towerName;
            float[][] vectors;
            int[]? labels = null;
            var clock = Stopwatch.StartNew();
            if (textPath is not null)
            {
                if (!File.Exists(textPath)) throw new FileNotFoundException($"--texts file '{textPath}' does not exist.", textPath);
                var lines = File.ReadLines(textPath).Where(l => l.Length > 0).Take(max).ToArray();
                using var tower = new MiniLmEncoder(parse.GetValue(threads));
                using var bar = new ProgressBar("embed texts", lines.Length, stderr);
                vectors = store.Embed(tower, lines, new Progress<int>(d => bar.Report(d)));
                (n, towerName) = (lines.Length, tower.Name);
            }
            else
            {
                LabeledImageSet set;
                if (cifarPath is not null)
                {
                    if (!File.Exists(cifarPath)) throw new FileNotFoundException($"--cifar10 file '{cifarPath}' does not exist.", cifarPath);
                    set = Cifar10.Load(cifarPath, max);
                }
                else
                {
                    if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"--images folder '{folder}' does not exist.");
                    set = LabeledImageSet.LoadClassFolders(folder!);
                    set = set.Take(max);
                }
                using var tower = new ResNet18Featurizer(parse.GetValue(threads));
                using var bar = new ProgressBar("embed images", set.Count, stderr);
                vectors = store.Embed(tower, set.Images, new Progress<int>(d => bar.Report(d)));
                (n, towerName, labels) = (set.Count, tower.Name, set.Labels.ToArray());
            }
            double seconds = clock.Elapsed.TotalSeconds;
            if (parse.GetValue(output) is { } outPath)
            {
                using var scope = NewDisposeScope();
                int d = vectors[0].Length;
                var tensors = new List<KeyValuePair<string, Tensor>> { new("embeddings", tensor(vectors.SelectMany(v => v).ToArray(), [n, d])) };
                if (labels is not null) tensors.Add(new("labels", tensor(labels.Select(l => (long)l).ToArray(), [n])));
                Safetensors.Save(outPath, tensors, new Dictionary<string, string> { ["tower"] = towerName });
            }
            var table = new TextTable("tower", "items", "dim", "seconds", "items/s");
            table.Add(towerName, n.ToString("N0"), vectors[0].Length.ToString(), seconds.ToString("F1"), (n / Math.Max(seconds, 1e-9)).ToString("F1"));
            stderr.Write(table.ToText());
            stdout.WriteLine(new JsonObject { ["tower"] = towerName, ["items"] = n, ["dim"] = vectors[0].Length, ["seconds"] = Math.Round(seconds, 2), ["cache"] = store.TowerDirectory(towerName) }.ToJsonString());
            return 0;
        });
        return command;
    }
}

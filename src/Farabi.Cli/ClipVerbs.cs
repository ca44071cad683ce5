using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Farabi.Tokenizers;
using Farabi.Vision;
using Farabi.Vision.Scenes;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi clip ...</c>: contrastive image–text models. For now the data side: <c>clip scenes</c> draws
/// the built-in procedural scenes to a folder (training and zero-shot verbs come with the model).
/// </summary>
static partial class ClipVerbs
{
    public static Command Create()
    {
        var clip = new Command("clip", "CLIP: contrastive image-text models and zero-shot classification.");
        clip.Subcommands.Add(Scenes());
        clip.Subcommands.Add(Train());
        clip.Subcommands.Add(ZeroShot());
        clip.Subcommands.Add(Probe());
        clip.Subcommands.Add(ImportHf());
        clip.Subcommands.Add(Lit());
        return clip;
    }

    static Command Scenes()
    {
        var count = new Option<int>("--count") { Description = "Number of scenes to draw.", DefaultValueFactory = _ => 256 };
        var outDir = new Option<string?>("--out") { Description = "Output folder (default runs/clip-scenes-<timestamp>)." };
        var size = new Option<int>("--size") { Description = "Image side in pixels.", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Seed: scene i is fixed by (seed, split, i).", DefaultValueFactory = _ => 0 };
        var holdOut = new Option<string[]>("--hold-out")
        {
            Description = "An attribute combination never shown in training, e.g. \"purple triangle\" (repeatable).",
            AllowMultipleArgumentsPerToken = false,
            Arity = ArgumentArity.ZeroOrMore,
        };
        var split = new Option<string>("--split") { Description = "train (no held-out combination) or held-out (one in every scene).", DefaultValueFactory = _ => "train" };
        split.AcceptOnlyFromAmong("train", "held-out");
        var maxObjects = new Option<int>("--max-objects") { Description = "Most shapes per scene.", DefaultValueFactory = _ => 2 };
        var noise = new Option<double>("--noise") { Description = "Background noise as a fraction of 255.", DefaultValueFactory = _ => 0.04 };
        var plain = new Option<bool>("--canonical-captions") { Description = "Canonical captions only (no synonyms, articles or prefixes)." };

        var command = new Command("scenes", "Draw procedural shape scenes with captions: PNGs, captions.jsonl and a contact sheet.")
        {
            count, outDir, size, seed, holdOut, split, maxObjects, noise, plain,
        };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var n = parse.GetValue(count);
            if (n <= 0 || n > 1_000_000) throw new UserError($"--count must be between 1 and 1000000, not {n}.");
            var heldOut = HeldOutCombinations.Parse(parse.GetValue(holdOut) ?? []);
            var which = parse.GetValue(split) == "held-out" ? SceneSplit.HeldOut : SceneSplit.Train;
            if (which == SceneSplit.HeldOut && heldOut.IsEmpty) throw new UserError("--split held-out needs at least one --hold-out combination.");
            var options = new SceneOptions
            {
                ImageSize = parse.GetValue(size), MaxObjects = parse.GetValue(maxObjects), Noise = parse.GetValue(noise),
                HeldOut = heldOut, VariedCaptions = !parse.GetValue(plain),
            };
            var generator = new SceneGenerator(options, parse.GetValue(seed));
            var run = RunFolder.Create("clip scenes", parse.GetValue(outDir));
            run.WriteConfig(new
            {
                verb = "clip scenes", count = n, size = options.ImageSize, seed = generator.Seed, split = which.ToString(),
                hold_out = heldOut.Combinations.Select(c => c.ToString()).ToArray(), max_objects = options.MaxObjects,
                noise = options.Noise, varied_captions = options.VariedCaptions,
            });

            var digits = Math.Max(5, n.ToString().Length);
            var lines = new string[n];
            var scenes = new Scene[Math.Min(n, 64)];
            var objects = 0;
            var heldOutObjects = 0;
            var distinctCaptions = new HashSet<string>();
            var clock = Stopwatch.StartNew();
            var done = 0;
            using (var progress = new ProgressBar("scenes", n, stderr))
            {
                // Scene i depends only on (seed, split, i), so drawing in parallel changes nothing; the
                // parallelism is for the disk: every PNG is written atomically, which syncs it.
                Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
                {
                    var scene = generator.Generate(i, which);
                    var file = $"scene-{i.ToString().PadLeft(digits, '0')}.png";
                    ImageFile.SavePng(scene.Image, run.File(file));
                    lines[i] = JsonSerializer.Serialize(new
                    {
                        file, caption = scene.Caption, split = which == SceneSplit.Train ? "train" : "held-out",
                        background = SceneWords.Name(scene.Background),
                        objects = scene.Objects.Select(o => new
                        {
                            shape = SceneWords.Name(o.Shape), colour = SceneWords.Name(o.Colour),
                            size = SceneWords.Name(o.Size), position = SceneWords.Name(o.Position),
                            held_out = heldOut.Matches(o),
                        }),
                    });
                    lock (lines)
                    {
                        objects += scene.Objects.Count;
                        heldOutObjects += scene.Objects.Count(heldOut.Matches);
                        distinctCaptions.Add(scene.Caption);
                        if (i < scenes.Length) scenes[i] = scene;
                        progress.Report(++done);
                    }
                });
            }
            var seconds = clock.Elapsed.TotalSeconds;
            AtomicFile.WriteText(run.File("captions.jsonl"), string.Join("\n", lines) + "\n");
            ImageFile.SavePng(ContactSheet.Build(scenes.Select(s => s.Image).ToList(), columns: 8, gap: 2), run.File("contact-sheet.png"));

            var table = new TextTable("split", "scenes", "objects", "held-out objects", "distinct captions", "seconds", "scenes/s")
                .Add(which == SceneSplit.Train ? "train" : "held-out", n, objects, heldOutObjects, distinctCaptions.Count, seconds, n / Math.Max(seconds, 1e-9));
            run.WriteReport($"# clip scenes\n\nHeld out: {heldOut}. Seed {generator.Seed}, {options.ImageSize}x{options.ImageSize} pixels.\n\n" +
                table.ToMarkdown() + "\n![contact sheet](contact-sheet.png)\n");
            stdout.Write(table.ToText());
            stdout.WriteLine($"wrote {n} scenes, captions.jsonl and contact-sheet.png to {run.Path}");
            return 0;
        });
        return command;
    }
}

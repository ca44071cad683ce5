using System.CommandLine;
using System.Globalization;
using Farabi.Cli.Plots;
using Farabi.Research.Oversight;
using Farabi.Research.WeakToStrong;
using Farabi.Tokenizers;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi w2s ...</c>: weak-to-strong generalization (Burns et al., 2023). <c>run</c> trains one weak/strong pair,
/// <c>sweep</c> every pair of a model list over losses and seeds, <c>report</c> re-renders a run folder's tables and plots.
/// </summary>
static class W2sCommands
{
    public static Command Create() => new("w2s", "Weak-to-strong generalization: a strong student trained on a weak supervisor's labels.")
    {
        CreateRun(), CreateSweep(), CreateOversight(), CreateReport(),
    };

    sealed class Common
    {
        public readonly Option<string> Task = new("--task")
        {
            Description = "synthetic (built in: negation), synthetic-lexicon (built in: rare sentiment words), or with --data: " + string.Join(", ", ClassificationDataSets.Names.Keys) + ".",
            DefaultValueFactory = _ => "synthetic",
        };
        public readonly Option<string?> Data = new("--data")
        {
            Description = "The task's data: " + string.Join("; ", ClassificationDataSets.Names.Select(kv => $"{kv.Key}: {kv.Value}")) + ".",
        };
        public readonly Option<int> Vocab = new("--vocab") { Description = "BPE vocabulary of the GPT family, trained on built-in stories plus the task's unlabelled training texts.", DefaultValueFactory = _ => 1024 };
        public readonly Option<int> ProbeSteps = new("--probe-steps") { Description = "Steps of a minilm-probe / minilm-mlp probe on the frozen embeddings.", DefaultValueFactory = _ => 300 };
        public readonly Option<int> MaxTokens = new("--max-tokens") { Description = "GPT family: texts are cut to their first this many tokens.", DefaultValueFactory = _ => 96 };
        public readonly Option<int> Train = new("--train") { Description = "Training examples (split into validation, A and B).", DefaultValueFactory = _ => 3000 };
        public readonly Option<int> Test = new("--test") { Description = "Test examples.", DefaultValueFactory = _ => 500 };
        public readonly Option<string> Losses = new("--losses") { Description = "Comma-separated student losses: xent, aux_conf, product.", DefaultValueFactory = _ => "xent,aux_conf,product" };
        public readonly Option<int> Steps = new("--steps") { Description = "Classification steps per training run (cosine-annealed learning rate).", DefaultValueFactory = _ => 400 };
        public readonly Option<int> WeakSteps = new("--weak-steps") { Description = "Steps of the weak supervisor (default: --steps).", DefaultValueFactory = _ => 0 };
        public readonly Option<int> PretrainSteps = new("--pretrain-steps") { Description = "Next-token steps per model size on built-in stories plus the task's unlabelled training texts.", DefaultValueFactory = _ => 200 };
        public readonly Option<int> Batch = new("--batch") { Description = "Examples per step.", DefaultValueFactory = _ => 32 };
        public readonly Option<double> Lr = new("--lr") { Description = "Peak AdamW learning rate (scaled by 64/width above width 64, annealed along a cosine).", DefaultValueFactory = _ => 2e-3 };
        public readonly Option<int> LoraRank = new("--lora-rank") { Description = "0: full fine-tuning; else LoRA rank on all linear layers.", DefaultValueFactory = _ => 0 };
        public readonly Option<int> EvalEvery = new("--eval-every") { Description = "Steps between validation checks (for the best-step PGR).", DefaultValueFactory = _ => 50 };
        public readonly Option<string?> Out = new("--out") { Description = "Run folder (default runs/w2s-<verb>-<time>)." };
        public readonly Option<int> Threads = new("--threads") { Description = "libtorch threads (0: torch's default); 1 is fastest for these small models on a shared machine.", DefaultValueFactory = _ => 1 };
        public readonly Option<int> SentimentWords = new("--sentiment-words") { Description = "Synthetic task: at most this many sentiment words per review (at least 1).", DefaultValueFactory = _ => 3 };
        public readonly Option<double> NegationRate = new("--negation-rate") { Description = "Synthetic task: probability that 'not' flips a sentiment word (the shortcut's error rate).", DefaultValueFactory = _ => 0.3 };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Task, Data, Train, Test, Losses, Steps, WeakSteps, PretrainSteps, Batch, Lr, LoraRank, EvalEvery, Out, Threads, SentimentWords, NegationRate, Vocab, MaxTokens, ProbeSteps }) c.Options.Add(o);
        }

        public TextClassificationTask LoadTask(ParseResult p, int seed)
        {
            var (train, test) = (p.GetValue(Train), p.GetValue(Test));
            if (train < 20) throw new UserError($"--train must be at least 20, not {train}.");
            if (test < 2) throw new UserError($"--test must be at least 2, not {test}.");
            var name = p.GetValue(Task)!.Trim().ToLowerInvariant();
            if (name == "synthetic") return Synthetic(p, train, test, seed);
            if (name == "synthetic-lexicon") return TextClassificationTask.SyntheticLexicon(train, test, seed);
            if (!ClassificationDataSets.Names.TryGetValue(name, out var expected))
                throw new UserError($"--task must be synthetic, synthetic-lexicon or one of {string.Join(", ", ClassificationDataSets.Names.Keys)}, not '{name}'.");
            var data = p.GetValue(Data) ?? throw new UserError($"--task {name} needs --data: {expected}.");
            return ClassificationDataSets.Load(name, data, train, test, seed);
        }

        TextClassificationTask Synthetic(ParseResult p, int train, int test, int seed)
        {
            try
            {
                return TextClassificationTask.SyntheticNegation(train, test, seed, maxSentimentWords: p.GetValue(SentimentWords), negationRate: p.GetValue(NegationRate));
            }
            catch (ArgumentException e)
            {
                throw new UserError("--sentiment-words/--negation-rate: " + e.Message);
            }
        }

        /// <summary>Sets libtorch's thread count from --threads (before any model is built).</summary>
        public void ApplyThreads(ParseResult p)
        {
            var threads = p.GetValue(Threads);
            if (threads < 0) throw new UserError($"--threads must be 0 (torch's default) or positive, not {threads}.");
            if (threads > 0) Farabi.Training.TorchThreads.Set(threads);
        }

        public IReadOnlyList<StudentLoss> ParseLosses(ParseResult p)
        {
            try
            {
                return p.GetValue(Losses)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(WeakToStrongLoss.Parse).Distinct().ToList();
            }
            catch (ArgumentException e)
            {
                throw new UserError("--losses: " + e.Message);
            }
        }

        public GptFamilyOptions FamilyOptions(ParseResult p, bool weak)
        {
            var steps = p.GetValue(Steps);
            if (weak && p.GetValue(WeakSteps) > 0) steps = p.GetValue(WeakSteps);
            if (steps < 1) throw new UserError($"--steps must be at least 1, not {steps}.");
            if (p.GetValue(MaxTokens) < 1) throw new UserError($"--max-tokens must be at least 1, not {p.GetValue(MaxTokens)}.");
            return new GptFamilyOptions(PretrainSteps: p.GetValue(PretrainSteps), Steps: steps, BatchSize: p.GetValue(Batch), LearningRate: p.GetValue(Lr),
                EvalEvery: p.GetValue(EvalEvery), LoraRank: p.GetValue(LoraRank), MaxTokens: p.GetValue(MaxTokens));
        }

        /// <summary>The model families of a command, built on first use: each size pretrains once and serves as weak and strong.</summary>
        public Families CreateFamilies(ParseResult p, TextClassificationTask task) => new(this, p, task) { Progress = line => Console.Error.WriteLine(line) };

        public object Config(ParseResult p, string verb, object extra) => new
        {
            verb = "w2s " + verb, task = p.GetValue(Task), data = p.GetValue(Data), train = p.GetValue(Train), test = p.GetValue(Test), losses = p.GetValue(Losses),
            steps = p.GetValue(Steps), weak_steps = p.GetValue(WeakSteps), pretrain_steps = p.GetValue(PretrainSteps), batch = p.GetValue(Batch), lr = p.GetValue(Lr),
            lora_rank = p.GetValue(LoraRank), eval_every = p.GetValue(EvalEvery), threads = p.GetValue(Threads),
            sentiment_words = p.GetValue(SentimentWords), negation_rate = p.GetValue(NegationRate), vocab = p.GetValue(Vocab), max_tokens = p.GetValue(MaxTokens),
            probe_steps = p.GetValue(ProbeSteps), extra,
        };
    }

    /// <summary>
    /// Resolves model names to <see cref="IClassifierFamily"/> objects for one task. GPT sizes share one pretraining
    /// corpus (built-in stories plus the task's training texts, no labels) and one BPE vocabulary; the weak role of a size
    /// differs from the strong one only in its fine-tuning steps (--weak-steps) and reuses its pretrained weights.
    /// <c>minilm-probe</c> / <c>minilm-mlp</c> are probes on frozen all-MiniLM-L6-v2 embeddings (one family for both roles).
    /// </summary>
    sealed class Families(Common common, ParseResult p, TextClassificationTask task) : IDisposable
    {
        readonly Dictionary<(string, bool), IClassifierFamily> made = [];
        GptPretrainingCorpus? corpus;

        /// <summary>Fails with one clear line for a model name no family provides.</summary>
        public static void Validate(string name)
        {
            name = name.Trim();
            if (!GptClassifierFamily.PresetNames.Contains(name) && !GptClassifierFamily.PresetNames.Contains("gpt-" + name) && !TowerProbeFamily.MiniLmNames.Contains(name))
                throw new UserError($"Unknown model '{name}'; expected one of {string.Join(", ", GptClassifierFamily.PresetNames.Concat(TowerProbeFamily.MiniLmNames))}.");
        }

        /// <summary>Hears the families' slow one-off work (embedding texts).</summary>
        public Action<string>? Progress { get; set; }

        public IClassifierFamily Get(string name, bool weak)
        {
            name = name.Trim();
            if (made.TryGetValue((name, weak), out var family)) return family;
            Validate(name);
            if (TowerProbeFamily.MiniLmNames.Contains(name))
            {
                if (made.TryGetValue((name, !weak), out var same)) return made[(name, weak)] = same;
                if (p.GetValue(common.ProbeSteps) < 1) throw new UserError($"--probe-steps must be at least 1, not {p.GetValue(common.ProbeSteps)}.");
                var tower = TowerProbeFamily.MiniLm(name, new ProbeOptions(Steps: p.GetValue(common.ProbeSteps), BatchSize: p.GetValue(common.Batch), EvalEvery: p.GetValue(common.EvalEvery)));
                tower.Progress = line => Progress?.Invoke(line);
                return made[(name, weak)] = tower;
            }
            if (made.TryGetValue((name, !weak), out var other))
                family = ((GptClassifierFamily)other).WithOptions(common.FamilyOptions(p, weak));
            else
            {
                if (p.GetValue(common.Vocab) < 300) throw new UserError($"--vocab must be at least 300, not {p.GetValue(common.Vocab)}.");
                corpus ??= GptPretrainingCorpus.Create(task.Train.Select(e => e.Text), p.GetValue(common.Vocab));
                family = GptClassifierFamily.Preset(name, common.FamilyOptions(p, weak), corpus);
            }
            return made[(name, weak)] = family;
        }

        public void Dispose()
        {
            foreach (var f in made.Values.Distinct()) (f as IDisposable)?.Dispose();
        }
    }

    static Command CreateRun()
    {
        var common = new Common();
        var weak = new Option<string>("--weak") { Description = "Weak supervisor: gpt-tiny, gpt-small, gpt-medium or gpt-large.", DefaultValueFactory = _ => "gpt-tiny" };
        var strong = new Option<string>("--strong") { Description = "Strong student and ceiling.", DefaultValueFactory = _ => "gpt-small" };
        var via = new Option<string?>("--via") { Description = "Bootstrapping: comma-separated intermediate models between weak and strong." };
        var seed = new Option<int>("--seed") { Description = "Seed of data, split, initialisation and batch order.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("run", "Train one weak supervisor, the strong student on its labels (per loss) and the strong ceiling; print PGR.") { weak, strong, via, seed };
        common.AddTo(cmd);
        cmd.SetAction(p =>
        {
            common.ApplyThreads(p);
            var s = p.GetValue(seed);
            var task = common.LoadTask(p, s);
            var losses = common.ParseLosses(p);
            using var families = common.CreateFamilies(p, task);
            var w = families.Get(p.GetValue(weak)!, weak: true);
            var st = families.Get(p.GetValue(strong)!, weak: false);
            var middles = (p.GetValue(via) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(n => families.Get(n, weak: false)).ToList();
            var run = RunFolder.Create("w2s-run", p.GetValue(common.Out));
            run.WriteConfig(common.Config(p, "run", new { weak = p.GetValue(weak), strong = p.GetValue(strong), via = p.GetValue(via), seed = s }));
            var rows = Execute(task, losses, [(w, st, middles)], [s], run);
            return Finish(run, rows, p.InvocationConfiguration.Output);
        });
        return cmd;
    }

    static Command CreateSweep()
    {
        var common = new Common();
        var models = new Option<string>("--models") { Description = "Comma-separated models from weak to strong; every ordered pair (weaker, stronger) runs.", DefaultValueFactory = _ => "gpt-tiny,gpt-small,gpt-medium" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds 0..N-1 per pair.", DefaultValueFactory = _ => 3 };
        var cmd = new Command("sweep", "Run every (weaker, stronger) pair of a model list over losses and seeds; results.json, report.md and plots.") { models, seeds };
        common.AddTo(cmd);
        cmd.SetAction(p =>
        {
            var names = p.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names.Length < 2) throw new UserError("--models needs at least two models.");
            if (p.GetValue(seeds) < 1) throw new UserError($"--seeds must be at least 1, not {p.GetValue(seeds)}.");
            foreach (var n in names) Families.Validate(n);
            var losses = common.ParseLosses(p);
            common.ApplyThreads(p);
            // The task is drawn once (seed 0) so every seed sees the same data and test set; seeds vary split, init and order.
            var task = common.LoadTask(p, 0);
            // One family object per model and role; each size pretrains once for the whole sweep.
            using var families = common.CreateFamilies(p, task);
            var pairs = new List<(IClassifierFamily, IClassifierFamily, IReadOnlyList<IClassifierFamily>)>();
            for (var i = 0; i < names.Length; i++)
                for (var j = i + 1; j < names.Length; j++) pairs.Add((families.Get(names[i], weak: true), families.Get(names[j], weak: false), []));
            var run = RunFolder.Create("w2s-sweep", p.GetValue(common.Out));
            run.WriteConfig(common.Config(p, "sweep", new { models = names, seeds = p.GetValue(seeds) }));
            var seedList = Enumerable.Range(0, p.GetValue(seeds)).ToList();
            var rows = Execute(task, losses, pairs, seedList, run);
            return Finish(run, rows, p.InvocationConfiguration.Output);
        });
        return cmd;
    }

    static Command CreateOversight()
    {
        var common = new Common();
        var weak = new Option<string>("--weak") { Description = "Weak supervisor model.", DefaultValueFactory = _ => "gpt-tiny" };
        var strong = new Option<string>("--strong") { Description = "Strong student model.", DefaultValueFactory = _ => "gpt-small" };
        var budgets = new Option<string>("--budgets") { Description = "Comma-separated numbers of ground-truth checks on B (0 = plain weak-to-strong).", DefaultValueFactory = _ => "0,25,50,100" };
        var strategies = new Option<string>("--strategies") { Description = "Comma-separated: random, student (strong confidently disagrees), ensemble (weak-ensemble disagreement).", DefaultValueFactory = _ => "random,student,ensemble" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds 0..N-1.", DefaultValueFactory = _ => 3 };
        var ensemble = new Option<int>("--ensemble") { Description = "Weak models in the bagged ensemble.", DefaultValueFactory = _ => 3 };
        var cmd = new Command("oversight", "Budget-limited overseer: check k of B's weak labels (per strategy), retrain the student, PGR vs budget.") { weak, strong, budgets, strategies, seeds, ensemble };
        common.AddTo(cmd);
        cmd.SetAction(p =>
        {
            int[] ks;
            try
            {
                ks = p.GetValue(budgets)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(t => int.Parse(t.Trim(), NumberStyles.None, CultureInfo.InvariantCulture)).Distinct().Order().ToArray();
            }
            catch (FormatException)
            {
                throw new UserError($"--budgets must be comma-separated non-negative integers, not '{p.GetValue(budgets)}'.");
            }
            List<OversightStrategy> chosen;
            try
            {
                chosen = p.GetValue(strategies)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(OversightSelection.Parse).Distinct().ToList();
            }
            catch (ArgumentException e)
            {
                throw new UserError("--strategies: " + e.Message);
            }
            if (ks.Length == 0 || chosen.Count == 0) throw new UserError("--budgets and --strategies must each name at least one value.");
            if (p.GetValue(ensemble) < 2) throw new UserError($"--ensemble must be at least 2, not {p.GetValue(ensemble)}.");
            var losses = common.ParseLosses(p);
            common.ApplyThreads(p);
            var task = common.LoadTask(p, 0);
            using var families = common.CreateFamilies(p, task);
            var w = families.Get(p.GetValue(weak)!, weak: true);
            var st = families.Get(p.GetValue(strong)!, weak: false);
            var run = RunFolder.Create("w2s-oversight", p.GetValue(common.Out));
            run.WriteConfig(common.Config(p, "oversight", new { weak = p.GetValue(weak), strong = p.GetValue(strong), budgets = ks, strategies = p.GetValue(strategies), seeds = p.GetValue(seeds), ensemble = p.GetValue(ensemble) }));
            var rows = new List<OversightResult>();
            using (var progress = new ProgressBar("w2s oversight", p.GetValue(seeds)))
                for (var seed = 0; seed < p.GetValue(seeds); seed++)
                {
                    var s = seed;
                    rows.AddRange(new OversightExperiment(task, losses[0], p.GetValue(ensemble)) { Progress = line => progress.Report(s, $"seed {s}: {line}") }.Run(w, st, seed, chosen, ks));
                    AtomicFile.WriteText(run.File("results.json"), System.Text.Json.JsonSerializer.Serialize(rows, WeakToStrongSummary.Json) + "\n");
                    progress.Report(seed + 1);
                }
            var table = new TextTable("strategy", "budget", "seeds", "label acc", "wrong labels fixed", "w2s acc", "PGR (95% CI)");
            var plot = new LinePlot { Title = "PGR vs oversight budget (mean, 95% CI over seeds)", XLabel = "ground-truth checks on B", YLabel = "PGR (accuracy)" };
            foreach (var g in rows.GroupBy(r => r.Strategy))
            {
                var points = g.GroupBy(r => r.Budget).OrderBy(b => b.Key).Select(b => (Budget: b.Key, Pgr: MeanInterval.Of(b.Select(r => r.Pgr)), Rows: b.ToList())).ToList();
                foreach (var (k, pgr, list) in points)
                    table.Add(g.Key, k, list.Count, F(list.Average(r => r.LabelAccuracy)), F(list.Average(r => (double)r.CorrectedWrongLabels)), F(list.Average(r => r.W2sAcc)), Ci(pgr));
                plot.Add(g.Key, points.Select(x => (double)x.Budget).ToList(), points.Select(x => double.IsFinite(x.Pgr.Mean) ? x.Pgr.Mean : 0).ToList(),
                    points.Select(x => double.IsFinite(x.Pgr.Lower) ? x.Pgr.Lower : 0).ToList(), points.Select(x => double.IsFinite(x.Pgr.Upper) ? x.Pgr.Upper : 0).ToList());
            }
            plot.SavePng(run.File("pgr_vs_budget.png"));
            run.WriteReport($"# w2s oversight: {task.Name}\n\n{p.GetValue(weak)} supervises {p.GetValue(strong)}; the overseer checks k of B's weak labels chosen by each strategy, "
                + $"and the student is retrained on the corrected labels. Weak acc {F(rows.Average(r => r.WeakAcc))}, ceiling acc {F(rows.Average(r => r.CeilingAcc))} (means over seeds).\n\n"
                + table.ToMarkdown() + "\n![PGR vs budget](pgr_vs_budget.png)\n");
            var o = p.InvocationConfiguration.Output;
            o.Write(table.ToText());
            o.WriteLine($"run folder: {run.Path}");
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// The <c>farabi demo</c> stage: <see cref="WeakToStrongDemo"/> (gpt-tiny supervises a MiniLM linear probe on the synthetic task),
    /// its rows, report and plots written to the demo's <c>w2s/</c> folder.
    /// </summary>
    internal static DemoCommand.StageResult DemoStage(RunFolder run, int seed, TextWriter stdout)
    {
        var folder = RunFolder.Create("w2s", run.File("w2s"));
        folder.WriteConfig(new { verb = "demo w2s", seed, weak = "gpt-tiny", strong = "minilm-probe", losses = "xent,aux_conf" });
        (string Headline, string Markdown, IReadOnlyList<WeakToStrongResult> Rows) result;
        using (var progress = new ProgressBar("w2s", 1))
            result = WeakToStrongDemo.Run(line => progress.Report(0, line), seed);
        Finish(folder, result.Rows.ToList(), stdout);
        return new DemoCommand.StageResult(result.Headline, result.Markdown + "\nPlots and `results.json`: `w2s/`.\n");
    }

    static Command CreateReport()
    {
        var dir = new Argument<string>("RUN_DIR") { Description = "A w2s run folder holding results.json." };
        var cmd = new Command("report", "Re-render report.md and the plots of a w2s run folder from its results.json.") { dir };
        cmd.SetAction(p =>
        {
            var path = p.GetValue(dir)!;
            if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Run folder '{path}' does not exist.");
            var rows = WeakToStrongSummary.Read(Path.Combine(path, "results.json"));
            if (rows.Count == 0) throw new FormatException($"Results file '{Path.Combine(path, "results.json")}' has no rows.");
            return Finish(RunFolder.Create("w2s-report", path), rows, p.InvocationConfiguration.Output, writeResults: false);
        });
        return cmd;
    }

    static List<WeakToStrongResult> Execute(TextClassificationTask task, IReadOnlyList<StudentLoss> losses,
        IReadOnlyList<(IClassifierFamily Weak, IClassifierFamily Strong, IReadOnlyList<IClassifierFamily> Via)> pairs, IReadOnlyList<int> seeds, RunFolder run)
    {
        var rows = new List<WeakToStrongResult>();
        var total = pairs.Count * seeds.Count;
        using var progress = new ProgressBar("w2s", total);
        var done = 0;
        foreach (var (weak, strong, via) in pairs)
            foreach (var seed in seeds)
            {
                var stage = new WeakToStrongExperiment(task, new WeakToStrongOptions(Losses: losses)) { Progress = line => progress.Report(done, $"seed {seed}: {line}") };
                foreach (var row in stage.RunLazily(weak, strong, seed, via))
                {
                    rows.Add(row);
                    run.AppendMetrics(System.Text.Json.JsonSerializer.SerializeToNode(row, WeakToStrongSummary.Json)!);
                    // Written after every row so an interrupted sweep keeps what it finished.
                    AtomicFile.WriteText(run.File("results.json"), WeakToStrongSummary.ToJson(rows) + "\n");
                }
                progress.Report(++done);
            }
        return rows;
    }

    static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
    static string Ci(MeanInterval m) => m.Count <= 1 ? F(m.Mean) : $"{F(m.Mean)} [{F(m.Lower)}, {F(m.Upper)}]";

    /// <summary>
    /// Line plots against the strong model (x: the strong models in the order the rows name them, weakest first), as in
    /// Burns et al.'s Figures 3 and 5: per loss, test accuracy of the ceiling, of each weak supervisor and of the student
    /// it taught, and the PGR per weak supervisor with its 95% interval; then the mean PGR over supervisors per loss.
    /// Returns the file names written.
    /// </summary>
    static List<string> SizePlots(RunFolder run, List<WeakToStrongCell> cells, List<string> losses)
    {
        var strongs = cells.Select(c => c.Strong).Distinct().ToList();
        var weaks = cells.Select(c => c.Weak).Distinct().ToList();
        var files = new List<string>();
        WeakToStrongCell? Find(string weak, string strong, string loss) => cells.FirstOrDefault(c => c.Weak == weak && c.Strong == strong && c.Loss == loss);
        // Only the strong models a supervisor taught get a point; the x index is the strong model's place in the list.
        (List<double> X, List<MeanInterval> Y) Line(string weak, string loss, Func<WeakToStrongCell, MeanInterval> metric)
        {
            var (x, y) = (new List<double>(), new List<MeanInterval>());
            for (var i = 0; i < strongs.Count; i++)
                if (Find(weak, strongs[i], loss) is { } c) { x.Add(i); y.Add(metric(c)); }
            return (x, y);
        }
        static List<double> Finite(IEnumerable<double> v) => v.Select(d => double.IsFinite(d) ? d : double.NaN).ToList();
        foreach (var loss in losses)
        {
            var accuracy = new LinePlot
            {
                Title = $"Test accuracy vs strong model ({loss})", XLabel = "strong model", YLabel = "test accuracy", XCategories = strongs, Legend = LegendPosition.BottomRight,
            };
            var ceiling = strongs.Select(st => MeanInterval.Of(cells.Where(c => c.Strong == st && c.Loss == loss).Select(c => c.CeilingAcc.Mean)).Mean).ToList();
            accuracy.Add("ceiling (strong on ground truth)", Enumerable.Range(0, strongs.Count).Select(i => (double)i).ToList(), ceiling);
            foreach (var weak in weaks)
            {
                var (x, y) = Line(weak, loss, c => c.W2sAcc);
                if (x.Count == 0) continue;
                accuracy.Add($"{weak} → strong", x, Finite(y.Select(m => m.Mean)));
                var (wx, wy) = Line(weak, loss, c => c.WeakAcc);
                accuracy.Add($"{weak} alone", wx, Finite(wy.Select(m => m.Mean)));
            }
            var name = $"accuracy_vs_strong_{loss}.png";
            accuracy.SavePng(run.File(name));
            files.Add(name);

            var pgr = new LinePlot { Title = $"PGR vs strong model ({loss}; PGR of seed-mean accuracies)", XLabel = "strong model", YLabel = "PGR (accuracy)", XCategories = strongs };
            foreach (var weak in weaks)
            {
                // A pair whose ceiling does not beat its weak model on average has no meaningful PGR: no point.
                var (x, y) = Line(weak, loss, c => c.CeilingAcc.Mean > c.WeakAcc.Mean ? new MeanInterval(c.PgrOfMeans, c.PgrOfMeans, c.PgrOfMeans, c.Seeds)
                    : new MeanInterval(double.NaN, double.NaN, double.NaN, 0));
                if (x.Count == 0) continue;
                pgr.Add($"weak {weak}", x, Finite(y.Select(m => m.Mean)));
            }
            name = $"pgr_vs_strong_{loss}.png";
            pgr.SavePng(run.File(name));
            files.Add(name);
        }
        var byLoss = new LinePlot { Title = "PGR per loss vs strong model (mean over weak supervisors whose ceiling is above them)", XLabel = "strong model", YLabel = "PGR (accuracy)", XCategories = strongs };
        foreach (var loss in losses)
        {
            var (x, y) = (new List<double>(), new List<double>());
            for (var i = 0; i < strongs.Count; i++)
            {
                var values = cells.Where(c => c.Strong == strongs[i] && c.Loss == loss && c.CeilingAcc.Mean > c.WeakAcc.Mean).Select(c => c.PgrOfMeans).ToList();
                if (values.Count == 0) continue;
                x.Add(i);
                y.Add(values.Average());
            }
            if (x.Count > 0) byLoss.Add(loss, x, y);
            else byLoss.Add($"{loss} (no finite PGR)", [0], [double.NaN]);
        }
        byLoss.SavePng(run.File("pgr_vs_strong.png"));
        files.Add("pgr_vs_strong.png");
        return files;
    }

    static int Finish(RunFolder run, List<WeakToStrongResult> rows, TextWriter stdout, bool writeResults = true)
    {
        if (writeResults) AtomicFile.WriteText(run.File("results.json"), WeakToStrongSummary.ToJson(rows) + "\n");
        var cells = WeakToStrongSummary.Cells(rows);
        var table = new TextTable("weak", "strong", "loss", "seeds", "weak acc", "w2s acc", "ceiling acc", "PGR of means", "PGR (95% CI)", "PGR best step", "PGR AUC", "agreement", "ceiling<=weak");
        foreach (var c in cells)
            table.Add(c.Weak, c.Strong, c.Loss, c.Seeds, F(c.WeakAcc.Mean), F(c.W2sAcc.Mean), F(c.CeilingAcc.Mean),
                c.CeilingAcc.Mean > c.WeakAcc.Mean ? F(c.PgrOfMeans) : "n/a (ceiling<=weak)", Ci(c.Pgr), Ci(c.PgrBest), Ci(c.PgrAuc), F(c.Agreement.Mean),
                c.CeilingNotAboveWeak == 0 ? "" : $"{c.CeilingNotAboveWeak}/{c.Seeds} seeds");
        var medians = WeakToStrongSummary.MedianPgrByLoss(cells);
        var medianLine = medians.Count == 0 ? "No pair's ceiling beat its weak model on average, so no median PGR is reported."
            : "Median over pairs (ceiling above weak on average) of the PGR of mean accuracies: " + string.Join(", ", medians.Select(kv => $"{kv.Key} {F(kv.Value)}")) + ".";

        var pairs = cells.Select(c => (c.Weak, c.Strong)).Distinct().ToList();
        var categories = pairs.Select(p => $"{p.Weak}→{p.Strong}").ToList();
        var losses = cells.Select(c => c.Loss).Distinct().ToList();
        WeakToStrongCell Cell((string Weak, string Strong) pair, string loss) => cells.First(c => c.Weak == pair.Weak && c.Strong == pair.Strong && c.Loss == loss);
        double Or0(double v) => double.IsFinite(v) ? v : 0;
        var accuracy = new BarChart { Title = "Weak, weak-to-strong and ceiling test accuracy", YLabel = "accuracy", Categories = categories, Width = 1000 };
        accuracy.Add("weak", pairs.Select(p => Cell(p, losses[0]).WeakAcc.Mean).ToList());
        foreach (var loss in losses) accuracy.Add($"w2s ({loss})", pairs.Select(p => Cell(p, loss).W2sAcc.Mean).ToList());
        accuracy.Add("ceiling", pairs.Select(p => Cell(p, losses[0]).CeilingAcc.Mean).ToList());
        accuracy.SavePng(run.File("accuracy.png"));
        var pgr = new BarChart { Title = "Performance gap recovered per loss (PGR of seed-mean accuracies; 0 where ceiling <= weak)", YLabel = "PGR (accuracy)", Categories = categories, Width = 1000 };
        foreach (var loss in losses)
            pgr.Add(loss, pairs.Select(p => Cell(p, loss) is var c && c.CeilingAcc.Mean > c.WeakAcc.Mean ? Or0(c.PgrOfMeans) : 0).ToList());
        pgr.SavePng(run.File("pgr.png"));
        var sizePlots = SizePlots(run, cells, losses);

        var task = rows[0].Task;
        run.WriteReport($"# w2s: {task}\n\n{rows.Count} rows (weak, strong, loss, seed) in `results.json`. Accuracies are test-set means over seeds; "
            + "\"PGR of means\" = (w2s − weak) / (ceiling − weak) of the seed-mean accuracies; \"PGR (95% CI)\" is the mean of per-seed PGRs with its t-interval (it explodes when a seed's gap is tiny or reversed); \"best step\" picks student and ceiling at their best "
            + "ground-truth validation accuracy (an optimistic early-stopping bound). Pairs whose ceiling does not beat the weak model are kept and flagged.\n\n"
            + table.ToMarkdown() + "\n" + medianLine + "\n\n![accuracy](accuracy.png)\n\n![PGR](pgr.png)\n\n"
            + "Against the strong model (as the paper's Figures 3 and 5: one panel per loss, one line per weak supervisor):\n\n"
            + string.Concat(sizePlots.Select(f => $"![{f}]({f})\n\n")));
        stdout.Write(table.ToText());
        stdout.WriteLine(medianLine);
        stdout.WriteLine($"run folder: {run.Path}");
        return 0;
    }
}

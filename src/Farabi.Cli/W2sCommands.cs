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
        public readonly Option<string> Task = new("--task") { Description = "synthetic (built in) or sst2 (needs --data).", DefaultValueFactory = _ => "synthetic" };
        public readonly Option<string?> Data = new("--data") { Description = "Folder with train.tsv and dev.tsv (text<TAB>0|1) for --task sst2." };
        public readonly Option<int> Train = new("--train") { Description = "Training examples (split into validation, A and B).", DefaultValueFactory = _ => 2000 };
        public readonly Option<int> Test = new("--test") { Description = "Test examples.", DefaultValueFactory = _ => 500 };
        public readonly Option<string> Losses = new("--losses") { Description = "Comma-separated student losses: xent, aux_conf, product.", DefaultValueFactory = _ => "xent,aux_conf" };
        public readonly Option<int> Steps = new("--steps") { Description = "Classification steps per training run.", DefaultValueFactory = _ => 300 };
        public readonly Option<int> WeakSteps = new("--weak-steps") { Description = "Steps of the weak supervisor (default: --steps).", DefaultValueFactory = _ => 0 };
        public readonly Option<int> PretrainSteps = new("--pretrain-steps") { Description = "Next-token steps on the built-in text per model size.", DefaultValueFactory = _ => 100 };
        public readonly Option<int> Batch = new("--batch") { Description = "Examples per step.", DefaultValueFactory = _ => 32 };
        public readonly Option<double> Lr = new("--lr") { Description = "AdamW learning rate.", DefaultValueFactory = _ => 1e-3 };
        public readonly Option<int> LoraRank = new("--lora-rank") { Description = "0: full fine-tuning; else LoRA rank on all linear layers.", DefaultValueFactory = _ => 0 };
        public readonly Option<int> EvalEvery = new("--eval-every") { Description = "Steps between validation checks (for the best-step PGR).", DefaultValueFactory = _ => 50 };
        public readonly Option<string?> Out = new("--out") { Description = "Run folder (default runs/w2s-<verb>-<time>)." };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Task, Data, Train, Test, Losses, Steps, WeakSteps, PretrainSteps, Batch, Lr, LoraRank, EvalEvery, Out }) c.Options.Add(o);
        }

        public TextClassificationTask LoadTask(ParseResult p, int seed)
        {
            var (train, test) = (p.GetValue(Train), p.GetValue(Test));
            if (train < 20) throw new UserError($"--train must be at least 20, not {train}.");
            if (test < 2) throw new UserError($"--test must be at least 2, not {test}.");
            return p.GetValue(Task) switch
            {
                "synthetic" => TextClassificationTask.SyntheticNegation(train, test, seed),
                "sst2" => TextClassificationTask.Sst2(p.GetValue(Data) ?? throw new UserError("--task sst2 needs --data FOLDER holding train.tsv and dev.tsv."), train, test, seed),
                var other => throw new UserError($"--task must be synthetic or sst2, not '{other}'."),
            };
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
            return new GptFamilyOptions(PretrainSteps: p.GetValue(PretrainSteps), Steps: steps, BatchSize: p.GetValue(Batch), LearningRate: p.GetValue(Lr),
                EvalEvery: p.GetValue(EvalEvery), LoraRank: p.GetValue(LoraRank));
        }

        public object Config(ParseResult p, string verb, object extra) => new
        {
            verb = "w2s " + verb, task = p.GetValue(Task), data = p.GetValue(Data), train = p.GetValue(Train), test = p.GetValue(Test), losses = p.GetValue(Losses),
            steps = p.GetValue(Steps), weak_steps = p.GetValue(WeakSteps), pretrain_steps = p.GetValue(PretrainSteps), batch = p.GetValue(Batch), lr = p.GetValue(Lr),
            lora_rank = p.GetValue(LoraRank), eval_every = p.GetValue(EvalEvery), extra,
        };
    }

    static GptClassifierFamily Family(string name, GptFamilyOptions options)
    {
        try
        {
            return GptClassifierFamily.Preset(name.Trim(), options);
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message);
        }
    }

    static Command CreateRun()
    {
        var common = new Common();
        var weak = new Option<string>("--weak") { Description = "Weak supervisor: gpt-tiny, gpt-small, gpt-medium or gpt-large.", DefaultValueFactory = _ => "gpt-tiny" };
        var strong = new Option<string>("--strong") { Description = "Strong student and ceiling.", DefaultValueFactory = _ => "gpt-medium" };
        var via = new Option<string?>("--via") { Description = "Bootstrapping: comma-separated intermediate models between weak and strong." };
        var seed = new Option<int>("--seed") { Description = "Seed of data, split, initialisation and batch order.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("run", "Train one weak supervisor, the strong student on its labels (per loss) and the strong ceiling; print PGR.") { weak, strong, via, seed };
        common.AddTo(cmd);
        cmd.SetAction(p =>
        {
            var s = p.GetValue(seed);
            var task = common.LoadTask(p, s);
            var losses = common.ParseLosses(p);
            using var w = Family(p.GetValue(weak)!, common.FamilyOptions(p, weak: true));
            using var st = Family(p.GetValue(strong)!, common.FamilyOptions(p, weak: false));
            var middles = (p.GetValue(via) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(n => Family(n, common.FamilyOptions(p, weak: false))).ToList();
            try
            {
                var run = RunFolder.Create("w2s-run", p.GetValue(common.Out));
                run.WriteConfig(common.Config(p, "run", new { weak = p.GetValue(weak), strong = p.GetValue(strong), via = p.GetValue(via), seed = s }));
                var rows = Execute(task, losses, [(w, st, middles)], [s], run);
                return Finish(run, rows, p.InvocationConfiguration.Output);
            }
            finally
            {
                foreach (var m in middles) m.Dispose();
            }
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
            var losses = common.ParseLosses(p);
            // One family object per model and role, so each size pretrains once for the whole sweep.
            var asWeak = names.Select(n => Family(n, common.FamilyOptions(p, weak: true))).ToList();
            var asStrong = names.Select(n => Family(n, common.FamilyOptions(p, weak: false))).ToList();
            try
            {
                var pairs = new List<(IClassifierFamily, IClassifierFamily, IReadOnlyList<IClassifierFamily>)>();
                for (var i = 0; i < names.Length; i++)
                    for (var j = i + 1; j < names.Length; j++) pairs.Add((asWeak[i], asStrong[j], []));
                var run = RunFolder.Create("w2s-sweep", p.GetValue(common.Out));
                run.WriteConfig(common.Config(p, "sweep", new { models = names, seeds = p.GetValue(seeds) }));
                var seedList = Enumerable.Range(0, p.GetValue(seeds)).ToList();
                // The task is drawn once (seed 0) so every seed sees the same data and test set; seeds vary split, init and order.
                var rows = Execute(common.LoadTask(p, 0), losses, pairs, seedList, run);
                return Finish(run, rows, p.InvocationConfiguration.Output);
            }
            finally
            {
                foreach (var f in asWeak.Concat(asStrong)) f.Dispose();
            }
        });
        return cmd;
    }

    static Command CreateOversight()
    {
        var common = new Common();
        var weak = new Option<string>("--weak") { Description = "Weak supervisor model.", DefaultValueFactory = _ => "gpt-tiny" };
        var strong = new Option<string>("--strong") { Description = "Strong student model.", DefaultValueFactory = _ => "gpt-medium" };
        var budgets = new Option<string>("--budgets") { Description = "Comma-separated numbers of ground-truth checks on B (0 = plain weak-to-strong).", DefaultValueFactory = _ => "0,25,50,100" };
        var strategies = new Option<string>("--strategies") { Description = "Comma-separated: random, student (strong confidently disagrees), ensemble (weak-ensemble disagreement).", DefaultValueFactory = _ => "random,student,ensemble" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds 0..N-1.", DefaultValueFactory = _ => 2 };
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
            var task = common.LoadTask(p, 0);
            using var w = Family(p.GetValue(weak)!, common.FamilyOptions(p, weak: true));
            using var st = Family(p.GetValue(strong)!, common.FamilyOptions(p, weak: false));
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

    static int Finish(RunFolder run, List<WeakToStrongResult> rows, TextWriter stdout, bool writeResults = true)
    {
        if (writeResults) AtomicFile.WriteText(run.File("results.json"), WeakToStrongSummary.ToJson(rows) + "\n");
        var cells = WeakToStrongSummary.Cells(rows);
        var table = new TextTable("weak", "strong", "loss", "seeds", "weak acc", "w2s acc", "ceiling acc", "PGR (95% CI)", "PGR best step", "PGR AUC", "agreement", "ceiling<=weak");
        foreach (var c in cells)
            table.Add(c.Weak, c.Strong, c.Loss, c.Seeds, F(c.WeakAcc.Mean), F(c.W2sAcc.Mean), F(c.CeilingAcc.Mean), Ci(c.Pgr), Ci(c.PgrBest), Ci(c.PgrAuc), F(c.Agreement.Mean),
                c.CeilingNotAboveWeak == 0 ? "" : $"{c.CeilingNotAboveWeak}/{c.Seeds} seeds");
        var medians = WeakToStrongSummary.MedianPgrByLoss(cells);
        var medianLine = medians.Count == 0 ? "No pair's ceiling beat its weak model on average, so no median PGR is reported."
            : "Median accuracy PGR over pairs (ceiling above weak): " + string.Join(", ", medians.Select(kv => $"{kv.Key} {F(kv.Value)}")) + ".";

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
        var pgr = new BarChart { Title = "Performance gap recovered per loss (mean, 95% CI over seeds)", YLabel = "PGR (accuracy)", Categories = categories, Width = 1000 };
        foreach (var loss in losses)
            pgr.Add(loss, pairs.Select(p => Or0(Cell(p, loss).Pgr.Mean)).ToList(), pairs.Select(p => Or0(Cell(p, loss).Pgr.Upper - Cell(p, loss).Pgr.Mean)).ToList());
        pgr.SavePng(run.File("pgr.png"));

        var task = rows[0].Task;
        run.WriteReport($"# w2s: {task}\n\n{rows.Count} rows (weak, strong, loss, seed) in `results.json`. Accuracies are test-set means over seeds; "
            + "PGR = (w2s − weak) / (ceiling − weak) with its 95% t-interval over seeds; \"best step\" picks student and ceiling at their best "
            + "ground-truth validation accuracy (an optimistic early-stopping bound). Pairs whose ceiling does not beat the weak model are kept and flagged.\n\n"
            + table.ToMarkdown() + "\n" + medianLine + "\n\n![accuracy](accuracy.png)\n\n![PGR](pgr.png)\n");
        stdout.Write(table.ToText());
        stdout.WriteLine(medianLine);
        stdout.WriteLine($"run folder: {run.Path}");
        return 0;
    }
}

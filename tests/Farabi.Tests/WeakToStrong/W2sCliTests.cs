using System.CommandLine;
using System.Text.Json.Nodes;
using Farabi.Cli;
using Xunit;

namespace Farabi.Tests.WeakToStrong;

public class W2sCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand("test") { W2sCommands.Create() };
        var (o, e) = (new StringWriter(), new StringWriter());
        var code = CliApp.Run(root, args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Run_writes_results_json_with_the_names_scripts_read_and_report_rerenders_it()
    {
        var dir = Path.Combine(Path.GetTempPath(), "farabi-w2s-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = Run("w2s", "run", "--weak", "gpt-tiny", "--strong", "gpt-tiny", "--train", "60", "--test", "20", "--steps", "6",
                "--pretrain-steps", "2", "--eval-every", "3", "--batch", "8", "--losses", "xent,product", "--out", dir);
            Assert.True(code == 0, err);
            var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsArray();
            Assert.Equal(2, rows.Count);
            foreach (var key in new[] { "weak", "strong", "loss", "seed", "weak_acc", "ceiling_acc", "w2s_acc", "pgr", "pgr_auc", "pgr_best" })
                Assert.True(rows[0]!.AsObject().ContainsKey(key), key);
            Assert.Equal("product", rows[1]!["loss"]!.GetValue<string>());
            Assert.Contains("PGR", stdout);
            foreach (var f in new[] { "config.json", "report.md", "accuracy.png", "pgr.png", "metrics.jsonl", "accuracy_vs_strong_xent.png", "pgr_vs_strong_product.png", "pgr_vs_strong.png" })
                Assert.True(File.Exists(Path.Combine(dir, f)), f);
            File.Delete(Path.Combine(dir, "report.md"));
            File.Delete(Path.Combine(dir, "pgr_vs_strong.png"));
            Assert.Equal(0, Run("w2s", "report", dir).Code);
            Assert.True(File.Exists(Path.Combine(dir, "report.md")));
            Assert.True(File.Exists(Path.Combine(dir, "pgr_vs_strong.png")));
            Assert.Contains("](pgr_vs_strong_product.png)", File.ReadAllText(Path.Combine(dir, "report.md")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Unknown_loss_or_model_is_one_clear_error_line()
    {
        var (code, _, err) = Run("w2s", "run", "--losses", "xent,hinge");
        Assert.Equal(2, code);
        Assert.Contains("hinge", Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        (code, _, err) = Run("w2s", "sweep", "--models", "gpt-tiny,gpt-huge", "--train", "40");
        Assert.Equal(2, code);
        Assert.Contains("gpt-huge", err);
    }
}

public class W2sTaskOptionTests
{
    static (int Code, string Err) Run(params string[] args)
    {
        var root = new RootCommand("test") { W2sCommands.Create() };
        var (o, e) = (new StringWriter(), new StringWriter());
        return (CliApp.Run(root, args, o, e), e.ToString());
    }

    [Fact]
    public void A_real_task_without_data_or_an_unknown_task_is_one_clear_line()
    {
        var (code, err) = Run("w2s", "run", "--task", "imdb");
        Assert.Equal(2, code);
        Assert.Contains("--task imdb needs --data", Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        (code, err) = Run("w2s", "run", "--task", "trec", "--data", ".");
        Assert.Equal(2, code);
        Assert.Contains("'trec'", err);
        (code, err) = Run("w2s", "run", "--task", "subj", "--data", Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(2, code);
        Assert.Contains("does not exist", err);
    }
}

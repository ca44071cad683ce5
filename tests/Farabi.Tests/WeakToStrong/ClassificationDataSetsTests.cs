using System.IO.Compression;
using System.Text;
using Farabi.Research.WeakToStrong;
using Farabi.Testing;
using Xunit;

namespace Farabi.Tests.WeakToStrong;

public sealed class ClassificationDataSetsTests : IDisposable
{
    readonly string dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "farabi-w2s-data-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    void WriteGzip(string name, string text)
    {
        using var file = File.Create(Path.Combine(dir, name));
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(text));
    }

    [Fact]
    public void Imdb_reads_gzipped_json_lines_and_turns_html_breaks_into_spaces()
    {
        WriteGzip("train.jsonl.gz", """
            {"file": "train/pos/0_9.txt", "text": "Loved it.<br /><br />Again!", "label": 1, "rating": 9}
            {"file": "train/neg/1_2.txt", "text": "Dull.", "label": 0, "rating": 2}

            """);
        Write("test.jsonl", "{\"text\": \"Fine film\", \"label\": \"1\"}\n");
        var task = ClassificationDataSets.Load("imdb", dir, trainCount: 10, testCount: 10, seed: 0);
        Assert.Equal([("Dull.", 0), ("Loved it.  Again!", 1)], task.Train.OrderBy(e => e.Label));
        Assert.Equal([("Fine film", 1)], task.Test);
        Assert.Equal("imdb", task.Name);
    }

    [Fact]
    public void Imdb_errors_name_the_file_and_line_or_the_missing_split()
    {
        WriteGzip("train.jsonl.gz", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 3}\n");
        var missing = Assert.Throws<FileNotFoundException>(() => ClassificationDataSets.Imdb(dir));
        Assert.Contains("test.jsonl", missing.Message);
        Write("test.jsonl", "{\"text\": \"c\", \"label\": 0}\n");
        var bad = Assert.Throws<FormatException>(() => ClassificationDataSets.Imdb(dir));
        Assert.Contains("train.jsonl.gz', line 2", bad.Message);
        Assert.Contains("'label' must be 0 or 1", bad.Message);
    }

    [Fact]
    public void BoolQ_puts_the_question_first_reads_arrays_and_json_lines_and_keeps_test_apart()
    {
        var items = Enumerable.Range(0, 10).Select(i => $"{{\"question\": \"is {i} even\", \"passage\": \"Passage {i}.\", \"answer\": {(i % 2 == 0 ? "true" : "false")}}}").ToList();
        var array = Write("boolq.json", "[\n" + string.Join(",\n", items) + "\n]");
        var lines = Write("boolq.jsonl", string.Join("\n", items) + "\n");
        var task = ClassificationDataSets.BoolQ(array, trainCount: 100, testCount: 3, seed: 1);
        Assert.Equal((7, 3), (task.Train.Count, task.Test.Count));
        Assert.All(task.Train.Concat(task.Test), e =>
        {
            var n = int.Parse(e.Text.Split(' ')[1]);
            Assert.Equal($"is {n} even? Passage {n}.", e.Text);
            Assert.Equal(n % 2 == 0 ? 1 : 0, e.Label);
        });
        Assert.Empty(task.Train.Select(e => e.Text).Intersect(task.Test.Select(e => e.Text)));
        Assert.Equal(task.Test, ClassificationDataSets.BoolQ(lines, 100, 3, seed: 1).Test);

        var bad = Write("bad.json", "[{\"question\": \"q\", \"passage\": \"p\", \"answer\": \"yes\"}]");
        Assert.Contains("item 0: 'answer' must be true or false", Assert.Throws<FormatException>(() => ClassificationDataSets.BoolQ(bad)).Message);
        Assert.Throws<FileNotFoundException>(() => ClassificationDataSets.BoolQ(Path.Combine(dir, "none.json")));
    }

    [Fact]
    public void Label_first_sentence_files_split_into_disjoint_seeded_parts_and_reject_non_binary_labels()
    {
        var path = Write("subj.all", string.Concat(Enumerable.Range(0, 20).Select(i => $"{i % 2} sentence number {i} .\n")));
        var task = ClassificationDataSets.Load("subj", path, trainCount: 8, testCount: 5, seed: 2);
        Assert.Equal((8, 5), (task.Train.Count, task.Test.Count));
        Assert.All(task.Train.Concat(task.Test), e => Assert.Equal(int.Parse(e.Text.Split(' ')[2]) % 2, e.Label));
        Assert.Empty(task.Train.Intersect(task.Test));
        Assert.Equal(task.Test, ClassificationDataSets.Load("subj", path, 8, 5, seed: 2).Test);
        Assert.NotEqual(task.Test, ClassificationDataSets.Load("subj", path, 8, 5, seed: 3).Test);

        var trec = Write("TREC.train.all", "0 what is it ?\n5 how far is it ?\n");
        var e = Assert.Throws<FormatException>(() => ClassificationDataSets.Load("mr", trec, 10, 1, 0));
        Assert.Contains("TREC.train.all', line 2", e.Message);
    }

    [Fact]
    public void SnappFood_maps_happy_to_1_and_sad_to_0_and_skips_the_header()
    {
        var path = Write("dev.tsv", "\tcomment\tlabel\tlabel_id\n0\tغذا سرد بود\tSAD\t1\n1\tعالی بود\tHAPPY\t0\n2\tخوب\tHAPPY\t0\n3\tبد\tSAD\t1\n");
        var task = ClassificationDataSets.SnappFood(path, trainCount: 10, testCount: 1, seed: 0);
        var all = task.Train.Concat(task.Test).ToDictionary(e => e.Text, e => e.Label);
        Assert.Equal(4, all.Count);
        Assert.Equal((0, 1), (all["غذا سرد بود"], all["عالی بود"]));
        var bad = Write("bad.tsv", "0\tمتن\tNEUTRAL\t2\n");
        Assert.Contains("line 1: label 'NEUTRAL' is neither HAPPY nor SAD", Assert.Throws<FormatException>(() => ClassificationDataSets.SnappFood(bad)).Message);
    }

    [Fact]
    public void Unknown_task_names_and_empty_files_are_clear_errors()
    {
        Assert.Contains("expected synthetic, sst2", Assert.Throws<ArgumentException>(() => ClassificationDataSets.Load("trec", dir, 1, 1, 0)).Message);
        var empty = Write("empty.all", "\n\n");
        Assert.Contains("has no examples", Assert.Throws<FormatException>(() => ClassificationDataSets.LabelFirstSentences("subj", empty)).Message);
    }

    [Theory]
    [InlineData("subj", "classification/sentences/subj.all")]
    [InlineData("mr", "classification/sentences/rt-polarity.all")]
    [InlineData("snappfood", "classification/fa-sentiment/snappfood/dev.tsv")]
    [InlineData("boolq", "classification/boolq/validation.json")]
    public void Shared_single_file_sets_load_balanced_enough_with_both_labels(string name, string relative)
    {
        var task = ClassificationDataSets.Load(name, SharedData.Require(relative), trainCount: 400, testCount: 200, seed: 0);
        Assert.Equal((400, 200), (task.Train.Count, task.Test.Count));
        // BoolQ's dev set is 62% "yes"; the others are balanced.
        Assert.InRange(task.Train.Count(e => e.Label == 1), 120, 300);
        Assert.All(task.Train, e => Assert.False(string.IsNullOrWhiteSpace(e.Text)));
    }

    [Fact]
    public void Shared_imdb_folder_loads()
    {
        var task = ClassificationDataSets.Imdb(SharedData.Require("classification/imdb"), trainCount: 50, testCount: 20, seed: 0);
        Assert.Equal((50, 20), (task.Train.Count, task.Test.Count));
        Assert.DoesNotContain(task.Train, e => e.Text.Contains("<br"));
    }
}

public class WeakToStrongSummaryTests
{
    static WeakToStrongResult Row(string weak, string strong, string loss, int seed, double w, double s, double c) => new()
    {
        Task = "t", Weak = weak, Strong = strong, Loss = loss, Seed = seed, WeakAcc = w, WeakAuc = w, CeilingAcc = c, CeilingAuc = c, W2sAcc = s, W2sAuc = s,
        W2sBestAcc = s, CeilingBestAcc = c, Pgr = PerformanceGapRecovered.Compute(w, s, c).Value, PgrAuc = 0, PgrBest = 0, CeilingBeatsWeak = c > w,
        Agreement = 1, WeakLabelAccOnB = w, BestStep = 1,
    };

    [Fact]
    public void Pgr_of_means_stays_bounded_where_the_mean_of_seed_pgrs_explodes_and_medians_skip_reversed_pairs()
    {
        var rows = new[]
        {
            // Seed 1's gap is 0.01, so its own PGR is 5; the mean accuracies give (0.725 − 0.70) / (0.805 − 0.70).
            Row("tiny", "small", "xent", 0, 0.70, 0.70, 0.90), Row("tiny", "small", "xent", 1, 0.70, 0.75, 0.71),
            Row("tiny", "medium", "xent", 0, 0.70, 0.76, 0.80),
            Row("small", "medium", "xent", 0, 0.85, 0.80, 0.80), // ceiling below weak: left out of the median
        };
        var cells = WeakToStrongSummary.Cells(rows);
        Assert.Equal(2.5, cells[0].Pgr.Mean, 9);
        Assert.Equal(0.025 / 0.105, cells[0].PgrOfMeans, 9);
        Assert.Equal(0.6, cells[1].PgrOfMeans, 9);
        var median = WeakToStrongSummary.MedianPgrByLoss(cells)["xent"];
        Assert.Equal((0.025 / 0.105 + 0.6) / 2, median, 9);
    }
}

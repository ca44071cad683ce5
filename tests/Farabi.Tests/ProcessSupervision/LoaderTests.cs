using System.IO.Compression;
using Farabi.Research.ProcessSupervision;
using Farabi.Testing;
using Xunit;

namespace Farabi.Tests.ProcessSupervision;

public sealed class Gsm8kLoaderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-gsm8k-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    [Fact]
    public void Notes_are_checked_and_labels_masked_after_the_first_wrong_note()
    {
        var path = Write("mini.jsonl",
            """{"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether?", "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 72"}""",
            "",
            """{"question": "A box has 1,200 pens and 3 more.", "answer": "First line without a note.\nThen 1200+3 = <<1200+3=1204>>1204.\nSo 1204*2 = <<1204*2=2408>>2408.\n#### 2,408"}""");
        var examples = Gsm8kLoader.Load(path);
        Assert.Equal(2, examples.Count);
        var (ok, bad) = (examples[0], examples[1]);
        Assert.Equal(1, ok.Line);
        Assert.Equal(3, bad.Line);
        Assert.Equal("72", ok.FinalAnswer);
        Assert.True(ok.AllNotesCorrect);
        Assert.Equal([1, 1], ok.StepLabels);
        Assert.False(ok.Steps[0].Notes[0].IsGrounded);  // "half" is a 2 the question never writes
        Assert.True(ok.Steps[1].Notes[0].IsGrounded);    // 48 from the question, 24 from the first note
        Assert.Equal("Natalia sold 48/2 = 24 clips in May.", ok.PlainSolution.Split('\n')[0]);
        var reference = ok.Reference with { AllowedConstants = new HashSet<Rational> { 2 } };
        Assert.Equal(SolutionOutcome.Correct, StepChecker.Check(reference, "48/2=24\n48+24=72\nanswer: 72").Outcome);
        Assert.Equal(0, StepChecker.Check(reference, "48*2=96\n48+96=144\nanswer: 144").FirstErrorStep);

        Assert.Equal("2408", bad.FinalAnswer);
        Assert.False(bad.AllNotesCorrect);
        Assert.Null(bad.Steps[0].Label);
        Assert.Equal(-1, bad.Steps[1].Label);
        Assert.Equal([0, -1, 0], bad.StepLabels);
        Assert.True(bad.Steps[1].Notes[0].IsGrounded); // 1,200 in the question is 1200
        Assert.False(bad.Steps[2].Notes[0].IsGrounded); // the question never states the 2

        var audit = Gsm8kLoader.Audit(examples);
        Assert.Equal(new Gsm8kAudit(Problems: 2, Steps: 5, StepsWithNotes: 4, Notes: 4, NotesCorrect: 3, NotesUnparsable: 0,
            NotesGrounded: 2, SolutionsAllNotesCorrect: 1, FinalAnswerEqualsLastNote: 2), audit);
    }

    [Theory]
    [InlineData("""{"question": "q", "answer": "no final line"}""", "mini.jsonl:1: the answer has no '#### n' line")]
    [InlineData("""{"question": "q"}""", "mini.jsonl:1: field \"answer\" is missing")]
    [InlineData("""{"question": "q", "answer": 5}""", "mini.jsonl:1: field \"answer\" is missing or not a string")]
    [InlineData("{\"question\": \"q\", \"answer\": \"#### 1\"", "mini.jsonl:1: not valid JSON")]
    [InlineData("""[1, 2]""", "mini.jsonl:1: expected a JSON object")]
    public void Malformed_lines_name_file_and_line(string line, string message)
    {
        var path = Write("mini.jsonl", line);
        var e = Assert.Throws<InvalidDataException>(() => Gsm8kLoader.Load(path));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Missing_file_is_a_clear_error() =>
        Assert.Throws<FileNotFoundException>(() => Gsm8kLoader.Load(Path.Combine(_dir, "absent.jsonl")));

    [Fact]
    public void Real_train_split_has_two_unreadable_notes_and_no_wrong_ones()
    {
        var examples = Gsm8kLoader.Load(SharedData.Require("math/gsm8k/train.jsonl"));
        var audit = Gsm8kLoader.Audit(examples);
        Assert.Equal(7473, audit.Problems);
        Assert.Equal(23716, audit.Notes);
        Assert.Equal(7471, audit.SolutionsAllNotesCorrect);
        // The two others use Python's floor division "//", which the notes' calculator accepted.
        var failing = examples.Where(e => !e.AllNotesCorrect).ToArray();
        Assert.Equal([395, 4170], failing.Select(e => e.Line));
        Assert.All(failing, e => Assert.Contains("//", e.Steps.SelectMany(s => s.Notes).First(n => !n.IsArithmeticCorrect).Expression));
        Assert.Equal(audit.Notes - 2, audit.NotesCorrect);
    }
}

public sealed class Prm800kLoaderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-prm800k-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    const string Line1 = """{"instruction":"How many seconds are in 7.8 minutes?","responses":[],"next_response":"7.8 minutes is 7 minutes and 0.8 minutes.","answer":null,"is_human_response":false,"is_solution":false,"is_preferred_response":true,"rating":1}""";
    const string Line2 = """{"instruction":"How many seconds are in 7.8 minutes?","responses":["7.8 minutes is 7 minutes and 0.8 minutes."],"next_response":"So 7.8 * 60 = 468.","answer":"468","is_human_response":false,"is_solution":true,"is_preferred_response":false,"rating":0,"error_reason":null}""";
    const string Line3 = """{"instruction":"What is 1+1?","responses":[],"next_response":"It is 3.","answer":"3","is_human_response":false,"is_solution":true,"is_preferred_response":false,"rating":-1,"error_reason":"incorrect_basic_arithmetic"}""";
    const string Line4 = """{"instruction":"What is 1+1?","responses":[],"next_response":"It is 2.","answer":"2","is_human_response":true,"is_solution":true,"is_preferred_response":true,"rating":null}""";

    string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Ratings_are_read_with_prefix_step_and_rating()
    {
        var ratings = Prm800kLoader.Load(Write("mini.jsonl", string.Join("\n", Line1, Line2, Line3, Line4)));
        Assert.Equal([1, 0, -1, null], ratings.Select(r => r.Rating));
        Assert.Equal("", ratings[0].Prefix);
        Assert.Equal("7.8 minutes is 7 minutes and 0.8 minutes.", ratings[1].Prefix);
        Assert.Equal("So 7.8 * 60 = 468.", ratings[1].Step);
        Assert.True(ratings[1].IsSolution);
        Assert.Equal("468", ratings[1].Answer);
        Assert.Equal("incorrect_basic_arithmetic", ratings[2].ErrorReason);
        Assert.True(ratings[3].IsHumanResponse);
        Assert.Equal([true, true, false, null], ratings.Select(r => r.IsPositive(neutralIsPositive: true)));
        Assert.Equal([true, false, false, null], ratings.Select(r => r.IsPositive(neutralIsPositive: false)));
        var problems = Prm800kLoader.GroupByProblem(ratings);
        Assert.Equal(["How many seconds are in 7.8 minutes?", "What is 1+1?"], problems.Select(p => p.Problem));
        Assert.Equal(2, problems[1].Ratings.Count);
    }

    [Fact]
    public void Gzip_files_are_read_by_their_magic_bytes()
    {
        var path = Path.Combine(_dir, "mini.data");
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        using (var w = new StreamWriter(gz)) w.Write(Line1 + "\n" + Line3 + "\n");
        Assert.Equal([1, -1], Prm800kLoader.Load(path).Select(r => r.Rating));
    }

    [Theory]
    [InlineData("\"rating\":1}", "\"rating\":2}", "mini.jsonl:2: field \"rating\" must be -1, 0, 1 or null, not 2")]
    [InlineData("\"responses\":[]", "\"responses\":\"x\"", "mini.jsonl:2: field \"responses\" is missing or not a list")]
    [InlineData("\"responses\":[]", "\"responses\":[3]", "mini.jsonl:2: \"responses\" holds a Number")]
    [InlineData(",\"rating\":1}", "}", "mini.jsonl:2: field \"rating\" is missing")]
    [InlineData("\"instruction\":", "\"problem\":", "mini.jsonl:2: field \"instruction\" is missing")]
    [InlineData("\"is_solution\":false", "\"is_solution\":\"no\"", "mini.jsonl:2: field \"is_solution\" is missing or not true/false")]
    public void Malformed_lines_name_file_and_line(string from, string to, string message)
    {
        var path = Write("mini.jsonl", Line3 + "\n" + Line1.Replace(from, to) + "\n");
        var e = Assert.Throws<InvalidDataException>(() => Prm800kLoader.Load(path));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Real_test_file_has_the_documented_counts()
    {
        var ratings = Prm800kLoader.Load(SharedData.Require("math/prm800k-phase1/test.jsonl"));
        Assert.Equal(5449, ratings.Count);
        Assert.Equal(101, Prm800kLoader.GroupByProblem(ratings).Count);
        Assert.Equal(2245, ratings.Count(r => r.Rating == 1));
        Assert.Equal(1970, ratings.Count(r => r.Rating == -1));
        Assert.Equal(867, ratings.Count(r => r.Rating == 0));
        Assert.Equal(367, ratings.Count(r => r.Rating == null));
        Assert.Equal(90, ratings.Count(r => r.IsSolution));
        // Each rated step continues a prefix of earlier steps of the same problem.
        Assert.Contains(ratings, r => r.PriorSteps.Count > 5);
    }

    [Fact]
    public void Real_train_plus_streams_from_gzip()
    {
        var first = Prm800kLoader.Read(SharedData.Require("math/prm800k-phase1/train_plus.jsonl.gz")).Take(2000).ToArray();
        Assert.Equal(2000, first.Length);
        Assert.Equal(Enumerable.Range(1, 2000), first.Select(r => r.Line));
        Assert.Contains(first, r => r.ErrorReason != null);
        Assert.Contains(first, r => r.Rating == -1);
        Assert.All(first, r => Assert.False(string.IsNullOrEmpty(r.Problem)));
    }
}

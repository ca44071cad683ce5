using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Farabi.Tokenizers;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Data;
using Farabi.Tokenizers.Formats;
using MlTokenizers = Microsoft.ML.Tokenizers;

namespace Farabi.Cli.Tokenizer;

/// <summary>
/// <c>farabi tokenizer bench</c>: single-threaded encode speed of Farabi against the .NET peers
/// (Microsoft.ML.Tokenizers' TiktokenTokenizer, SharpToken, and Hugging Face's Rust tokenizers through
/// Tokenizers.DotNet), all in one process on the same text, after checking that every peer produces
/// Farabi's ids. Figures are best-of-N wall-clock MB/s of UTF-8 input; the last line printed is
/// <c>ratio_vs_fastest_peer=X.XX</c> (Farabi's MB/s over the fastest peer's with identical ids).
/// </summary>
static class TokenizerBench
{
    public static Command Create()
    {
        var encoding = TokenizerCommands.EncodingOption();
        encoding.Description = "gpt2 | cl100k_base | o200k_base (peers exist for these names only).";
        var input = new Option<string[]>("--input", "-i") { Description = "Text file(s) to encode, concatenated.", Required = true, AllowMultipleArgumentsPerToken = true };
        var repeat = new Option<int>("--repeat") { Description = "Repeat the text N times (to reach 10+ MB).", DefaultValueFactory = _ => 1 };
        var runs = new Option<int>("--runs") { Description = "Timed runs per tokenizer; the best counts.", DefaultValueFactory = _ => 3 };
        var peers = new Option<string>("--peers") { Description = "Comma-separated peers: ml,sharptoken,hf (default all).", DefaultValueFactory = _ => "ml,sharptoken,hf" };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to PATH." };
        var cmd = new Command("bench", "Encode speed vs Microsoft.ML.Tokenizers, SharpToken and HF tokenizers (single thread, identical ids checked first).")
            { encoding, input, repeat, runs, peers, json };
        cmd.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var name = parse.GetValue(encoding)!;
            var n = parse.GetValue(repeat);
            if (n < 1) throw new UserError("--repeat must be at least 1.");
            var runCount = parse.GetValue(runs);
            if (runCount < 1) throw new UserError("--runs must be at least 1.");
            var files = parse.GetValue(input)!;
            foreach (var f in files) if (!File.Exists(f)) throw new FileNotFoundException($"the input file {f} does not exist.", f);
            var one = string.Concat(files.Select(f => File.ReadAllText(f, Encoding.UTF8)));
            var text = n == 1 ? one : new StringBuilder(one.Length * n).Insert(0, one, n).ToString();
            var result = Run(name, text, runCount, parse.GetValue(peers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), Console.Error);
            result = result with { Inputs = files, Repeat = n };
            stdout.Write(result.Table().ToText());
            stdout.WriteLine($"farabi allocations: {result.FarabiBytesPerToken:F4} bytes/token in steady state (encoding into a reused list)");
            if (parse.GetValue(json) is { } path)
                AtomicFile.WriteText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
            stdout.WriteLine($"ratio_vs_fastest_peer={result.RatioVsFastestPeer:F2}");
            return 0;
        });
        return cmd;
    }

    /// <summary>One tokenizer's figures.</summary>
    public sealed record Row(string Tokenizer, double MBPerSecond, double MBPerCpuSecond, int Tokens, bool IdenticalIds, string? Note);

    /// <summary>The whole comparison.</summary>
    public sealed record Result(string Encoding, long InputBytes, int Runs, IReadOnlyList<Row> Rows, double FarabiBytesPerToken, double RatioVsFastestPeer)
    {
        public IReadOnlyList<string> Inputs { get; init; } = [];
        public int Repeat { get; init; } = 1;

        public TextTable Table()
        {
            var t = new TextTable("tokenizer", "MB/s", "MB/cpu-s", "tokens", "ids == farabi", "note");
            foreach (var r in Rows) t.Add(r.Tokenizer, Math.Round(r.MBPerSecond, 2), Math.Round(r.MBPerCpuSecond, 2), r.Tokens, r.IdenticalIds ? "yes" : "NO", r.Note ?? "");
            return t;
        }
    }

    sealed record Peer(string Name, Func<string, IReadOnlyList<int>> Encode, string? Note = null);

    public static Result Run(string encoding, string text, int runs, IReadOnlyList<string> peerNames, TextWriter log)
    {
        if (!Encodings.IsKnown(encoding)) throw new UserError($"--encoding: bench compares named encodings only (gpt2, cl100k_base, o200k_base), not '{encoding}'.");
        var farabi = Encodings.Get(encoding);
        var canonical = farabi.Name;
        var bytes = Encoding.UTF8.GetByteCount(text);
        log.WriteLine($"bench: {canonical} on {bytes / 1e6:F1} MB, best of {runs} interleaved rounds");

        var reused = new List<int>(text.Length / 2);
        var expected = farabi.Encode(text, SpecialTokenPolicy.AsText);
        // Steady state: one more pass into the reused list, counting what this thread allocates.
        farabi.Encode(text, reused, SpecialTokenPolicy.AsText);
        reused.Clear();
        var before = GC.GetAllocatedBytesForCurrentThread();
        farabi.Encode(text, reused, SpecialTokenPolicy.AsText);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Identical ids first: a peer whose ids differ, or that fails, gets no speed figure.
        var contenders = new List<(string Name, Action Encode, string? Note)>
        {
            ("farabi", () => { reused.Clear(); farabi.Encode(text, reused, SpecialTokenPolicy.AsText); }, null),
        };
        var rows = new List<Row>();
        var failed = new List<Row>();
        foreach (var peer in Peers(encoding, canonical, farabi, peerNames, log))
        {
            IReadOnlyList<int> ids;
            try { ids = peer.Encode(text); }
            catch (Exception e) { failed.Add(new Row(peer.Name, 0, 0, 0, false, "failed: " + e.Message.ReplaceLineEndings(" "))); continue; }
            var same = ids.Count == expected.Length && ids.SequenceEqual(expected);
            if (!same) { failed.Add(new Row(peer.Name, 0, 0, ids.Count, false, FirstDifference(expected, ids))); continue; }
            contenders.Add((peer.Name, () => peer.Encode(text), peer.Note));
        }
        // Rounds interleave the tokenizers, so on a shared machine each meets the same spells of
        // contention; each keeps its best round. CPU seconds (this process) are shown beside wall time.
        var bestWall = new double[contenders.Count];
        var bestCpu = new double[contenders.Count];
        Array.Fill(bestWall, double.MaxValue);
        Array.Fill(bestCpu, double.MaxValue);
        var process = Process.GetCurrentProcess();
        for (var r = 0; r < runs; r++)
        {
            for (var c = 0; c < contenders.Count; c++)
            {
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                contenders[c].Encode();
                var wall = clock.Elapsed.TotalSeconds;
                process.Refresh();
                bestWall[c] = Math.Min(bestWall[c], wall);
                bestCpu[c] = Math.Min(bestCpu[c], (process.TotalProcessorTime - cpu0).TotalSeconds);
                log.WriteLine($"  round {r + 1}: {contenders[c].Name} {bytes / 1e6 / wall:F2} MB/s");
            }
        }
        for (var c = 0; c < contenders.Count; c++)
            rows.Add(new Row(contenders[c].Name, bytes / 1e6 / bestWall[c], bytes / 1e6 / bestCpu[c], expected.Length, true, contenders[c].Note));
        rows.AddRange(failed);
        var fastestPeer = rows.Skip(1).Where(r => r.IdenticalIds && r.MBPerSecond > 0).Select(r => r.MBPerSecond).DefaultIfEmpty(0).Max();
        var ratio = fastestPeer > 0 ? rows[0].MBPerSecond / fastestPeer : 0;
        return new Result(canonical, bytes, runs, rows, (double)allocated / expected.Length, ratio);
    }

    static string FirstDifference(int[] expected, IReadOnlyList<int> actual)
    {
        var i = 0;
        while (i < expected.Length && i < actual.Count && expected[i] == actual[i]) i++;
        return $"first difference at token {i} of {expected.Length}";
    }

    static double Best(int runs, Action encode)
    {
        var best = double.MaxValue;
        for (var r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            encode();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    static IEnumerable<Peer> Peers(string requested, string canonical, BpeTokenizer farabi, IReadOnlyList<string> names, TextWriter log)
    {
        foreach (var name in names)
        {
            Peer? peer = null;
            try
            {
                peer = name switch
                {
                    "ml" => MlPeer(canonical),
                    "sharptoken" => SharpTokenPeer(canonical),
                    "hf" => HuggingFacePeer(canonical, farabi),
                    _ => throw new UserError($"--peers: unknown peer '{name}' (ml, sharptoken, hf)."),
                };
            }
            catch (UserError) { throw; }
            catch (Exception e) { log.WriteLine($"  {name}: could not be created: {e.Message}"); }
            if (peer != null) yield return peer;
        }
    }

    static Peer MlPeer(string canonical)
    {
        var tokenizer = canonical == "gpt2" ? MlTokenizers.TiktokenTokenizer.CreateForModel("gpt2") : MlTokenizers.TiktokenTokenizer.CreateForEncoding(canonical);
        return new Peer("Microsoft.ML.Tokenizers", t => tokenizer.EncodeToIds(t));
    }

    static Peer SharpTokenPeer(string canonical)
    {
        var encoding = SharpToken.GptEncoding.GetEncoding(canonical == "gpt2" ? "r50k_base" : canonical);
        var none = new HashSet<string>();
        return new Peer("SharpToken", t => encoding.Encode(t, none, none));
    }

    /// <summary>HF's Rust tokenizer, given the tokenizer.json that Farabi exports for the same vocabulary.</summary>
    static Peer HuggingFacePeer(string canonical, BpeTokenizer farabi)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"farabi-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, canonical + ".tokenizer.json");
        HuggingFaceTokenizerJson.Save(farabi, path);
        var tokenizer = new global::Tokenizers.DotNet.Tokenizer(path);
        return new Peer("HF tokenizers (Rust, Tokenizers.DotNet)", t => Array.ConvertAll(tokenizer.Encode(t), x => (int)x));
    }
}

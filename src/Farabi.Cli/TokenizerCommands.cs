using System.CommandLine;
using System.Text;
using System.Text.Json;
using Farabi.Cli.Tokenizer;
using Farabi.Tokenizers.Bpe;
using Farabi.Tokenizers.Data;

namespace Farabi.Cli;

/// <summary>
/// <c>farabi tokenizer ...</c>: encode, decode and bench (train and stats join the group through
/// <see cref="Create"/>'s list). Ids go to stdout as JSON arrays, one per text or line, so scripts
/// can parse them; user mistakes exit with code 2 and one line on stderr.
/// </summary>
static class TokenizerCommands
{
    /// <summary>The verbs of the group; add new ones here.</summary>
    public static Command Create()
    {
        var group = new Command("tokenizer", "Byte-level BPE: encode, decode, train, stats, benchmark.");
        group.Subcommands.Add(Encode());
        group.Subcommands.Add(Decode());
        group.Subcommands.Add(TrainAndStats.Train());
        group.Subcommands.Add(TrainAndStats.Stats());
        group.Subcommands.Add(TokenizerBench.Create());
        return group;
    }

    /// <summary><c>--encoding</c>: a named encoding or a path to a vocabulary; shared by every verb of the group.</summary>
    internal static Option<string> EncodingOption() => new("--encoding", "-e")
    {
        Description = "gpt2 | r50k_base | cl100k_base | o200k_base, or a PATH: .tiktoken file, tokenizer.json, or a folder (vocab.json + merges.txt, or one written by `tokenizer train`).",
        Required = true,
    };

    /// <summary>Resolves <c>--encoding</c> (kept here so train/stats resolve it the same way).</summary>
    internal static BpeTokenizer Resolve(string encoding) => Encodings.Resolve(encoding);

    static Command Encode()
    {
        var encoding = EncodingOption();
        var text = new Option<string?>("--text", "-t") { Description = "The text to encode." };
        var input = new Option<string?>("--input", "-i") { Description = "A UTF-8 file to encode ('-' for stdin)." };
        var lines = new Option<bool>("--lines") { Description = "Encode each line of the input separately: one JSON array per line." };
        var allow = new Option<string>("--allow-special")
        {
            Description = "Special tokens that become their ids: none (default; a special in the text is an error, as in tiktoken), all, or a comma-separated list.",
            DefaultValueFactory = _ => "none",
        };
        var asText = new Option<bool>("--specials-as-text") { Description = "Encode special tokens' text as ordinary text (tiktoken's encode_ordinary)." };
        var cmd = new Command("encode", "Print the token ids of a text as a JSON array.") { encoding, text, input, lines, allow, asText };
        cmd.SetAction(parse =>
        {
            var tokenizer = Resolve(parse.GetValue(encoding)!);
            var policy = Policy(tokenizer, parse.GetValue(allow)!, parse.GetValue(asText));
            var source = ReadInput(parse.GetValue(text), parse.GetValue(input));
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(lines))
            {
                var ids = new List<int>();
                var sb = new StringBuilder();
                foreach (var line in SplitLines(source))
                {
                    ids.Clear();
                    tokenizer.Encode(line, ids, policy);
                    sb.Clear();
                    stdout.WriteLine(AppendJson(sb, ids));
                }
            }
            else
            {
                stdout.WriteLine(AppendJson(new StringBuilder(), tokenizer.Encode(source.AsSpan(), policy)));
            }
            return 0;
        });
        return cmd;
    }

    static Command Decode()
    {
        var encoding = EncodingOption();
        var ids = new Option<string>("--ids") { Description = "The ids as a JSON array, e.g. \"[15496, 995]\".", Required = true };
        var cmd = new Command("decode", "Print the text of a JSON array of ids (invalid UTF-8 becomes U+FFFD, as in tiktoken); no newline is added.") { encoding, ids };
        cmd.SetAction(parse =>
        {
            var parsed = ParseIds(parse.GetValue(ids)!);
            var tokenizer = Resolve(parse.GetValue(encoding)!);
            foreach (var id in parsed)
                if (!tokenizer.ContainsId(id))
                    throw new UserError($"--ids: {id} is not a token id of {tokenizer.Name} (vocabulary size {tokenizer.VocabSize}).");
            parse.InvocationConfiguration.Output.Write(tokenizer.Decode(parsed));
            return 0;
        });
        return cmd;
    }

    /// <summary>Parses "[1, 2, 3]"; one clear sentence when it is not a JSON array of non-negative integers.</summary>
    internal static int[] ParseIds(string json)
    {
        try
        {
            var ids = JsonSerializer.Deserialize<int[]>(json);
            if (ids == null) throw new UserError("--ids: expected a JSON array of integers such as [15496, 995], got null.");
            return ids;
        }
        catch (JsonException)
        {
            throw new UserError($"--ids: expected a JSON array of integers such as [15496, 995], got '{(json.Length > 40 ? json[..40] + "..." : json)}'.");
        }
    }

    internal static SpecialTokenPolicy Policy(BpeTokenizer tokenizer, string allow, bool asText)
    {
        if (asText) return SpecialTokenPolicy.AsText;
        switch (allow.Trim())
        {
            case "none" or "": return SpecialTokenPolicy.DisallowAll;
            case "all": return SpecialTokenPolicy.AllowAll;
        }
        var names = allow.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var n in names)
            if (!tokenizer.SpecialTokens.ContainsKey(n))
                throw new UserError($"--allow-special: {n} is not a special token of {tokenizer.Name} (it has {string.Join(", ", tokenizer.SpecialTokens.Keys)}).");
        return SpecialTokenPolicy.Allow(names);
    }

    internal static string ReadInput(string? text, string? input)
    {
        if (text != null && input != null) throw new UserError("give either --text or --input, not both.");
        if (text != null) return text;
        if (input == null) throw new UserError("give the text with --text \"...\" or a file with --input FILE.");
        if (input == "-") return Console.In.ReadToEnd();
        if (!File.Exists(input)) throw new FileNotFoundException($"the input file {input} does not exist.", input);
        return File.ReadAllText(input, Encoding.UTF8);
    }

    /// <summary>Lines without their terminators (\n or \r\n); a final newline does not make an extra empty line.</summary>
    static IEnumerable<string> SplitLines(string text)
    {
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line) yield return line;
    }

    static string AppendJson(StringBuilder sb, IReadOnlyList<int> ids)
    {
        sb.Append('[');
        for (var i = 0; i < ids.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(ids[i]);
        }
        return sb.Append(']').ToString();
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using Farabi.Data;

namespace Farabi.Cli;

/// <summary><c>farabi data</c>: preparing corpora for training.</summary>
static class DataCommands
{
    public static Command Create() => new("data", "Prepare training data: text to flat token files.") { CreateTokenize() };

    /// <summary><c>farabi data tokenize</c>: text files to <c>x.bin</c> (+ <c>x.val.bin</c>) with JSON sidecars.</summary>
    public static Command CreateTokenize()
    {
        var input = new Option<string[]>("--input") { Description = "Text file(s) to tokenize (UTF-8), concatenated in order.", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Token file to write (x.bin); the validation split goes to x.val.bin, each with a .json sidecar.", Required = true };
        var mode = new Option<string>("--mode") { Description = "char: vocabulary = the text's distinct characters; byte: UTF-8 bytes (256 ids); bpe:ENCODING: a BPE vocabulary (gpt2, cl100k_base, or a folder from `tokenizer train`).", DefaultValueFactory = _ => "char" };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of the tokens (at the end) kept for validation; 0 writes one file.", DefaultValueFactory = _ => 0.1 };
        var command = new Command("tokenize", "Turn text into a flat uint16/uint32 token file for `farabi lm train`.") { input, output, mode, valFraction };
        command.SetAction(parse =>
        {
            var inputs = parse.GetValue(input)!;
            var text = TokenCorpus.ReadText(inputs);
            var tokenizer = TextTokenizers.ForMode(parse.GetValue(mode)!, text);
            var files = TokenCorpus.Write(text, tokenizer, parse.GetValue(output)!, parse.GetValue(valFraction), inputs.Select(Path.GetFullPath).ToArray());
            Console.Error.WriteLine($"{tokenizer.Mode}-level, vocabulary {tokenizer.VocabSize}: {files.Train.Count:N0} training tokens → {files.TrainPath}"
                + (files.Val is null ? "" : $", {files.Val.Count:N0} validation tokens → {files.ValPath}"));
            Console.Out.WriteLine(new JsonObject
            {
                ["train"] = files.TrainPath,
                ["val"] = files.ValPath,
                ["mode"] = tokenizer.Mode,
                ["vocab_size"] = tokenizer.VocabSize,
                ["dtype"] = files.Train.DType,
                ["train_tokens"] = files.Train.Count,
                ["val_tokens"] = files.Val?.Count ?? 0,
            }.ToJsonString());
            return 0;
        });
        return command;
    }
}

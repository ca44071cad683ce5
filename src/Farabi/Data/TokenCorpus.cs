using System.Text;

namespace Farabi.Data;

/// <summary>The token files one tokenization wrote: the training split and, when a validation fraction was asked for, the validation split.</summary>
public sealed record TokenCorpusFiles(string TrainPath, TokenFileInfo Train, string? ValPath, TokenFileInfo? Val);

/// <summary>
/// Text to token files, as nanoGPT's <c>prepare.py</c> scripts: encode the whole text, keep the first
/// <c>1 - valFraction</c> of the tokens for training and the rest for validation. <c>x.bin</c> holds the training
/// split (or everything), <c>x.val.bin</c> the validation split, each with its JSON sidecar.
/// </summary>
public static class TokenCorpus
{
    /// <summary>The validation file that goes with <paramref name="trainPath"/>: <c>x.bin</c> → <c>x.val.bin</c>.</summary>
    public static string ValPathFor(string trainPath) => Path.ChangeExtension(trainPath, null) + ".val.bin";

    /// <summary>Reads and concatenates <paramref name="inputs"/> (UTF-8).</summary>
    /// <exception cref="FileNotFoundException">An input does not exist.</exception>
    public static string ReadText(IReadOnlyList<string> inputs)
    {
        var sb = new StringBuilder();
        foreach (var path in inputs)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"Input text '{path}' does not exist.", path);
            sb.Append(File.ReadAllText(path, Encoding.UTF8));
        }
        return sb.ToString();
    }

    /// <summary>
    /// Encodes <paramref name="text"/> with <paramref name="tokenizer"/> and writes <paramref name="outPath"/> (and
    /// its validation twin when <paramref name="valFraction"/> &gt; 0).
    /// </summary>
    /// <exception cref="ArgumentException">The fraction is outside [0, 1) or the text is empty.</exception>
    public static TokenCorpusFiles Write(string text, ITextTokenizer tokenizer, string outPath, double valFraction, IReadOnlyList<string> sources)
    {
        if (valFraction is < 0 or >= 1 || double.IsNaN(valFraction)) throw new ArgumentException($"The validation fraction must be in [0, 1); got {valFraction}.");
        if (text.Length == 0) throw new ArgumentException("The input text is empty.");
        var ids = tokenizer.Encode(text);
        var nTrain = valFraction == 0 ? ids.Length : (int)(ids.Length * (1 - valFraction));
        var trainIds = ids[..nTrain];
        var valIds = ids[nTrain..];
        var description = tokenizer.ToJson();
        var train = TokenFile.Write(outPath, trainIds, new TokenFileInfo("", tokenizer.VocabSize, 0,
            Utf8Bytes(tokenizer, trainIds, text, valFraction == 0), description, valFraction == 0 ? "all" : "train", sources));
        if (valFraction == 0) return new TokenCorpusFiles(outPath, train, null, null);
        var valPath = ValPathFor(outPath);
        var val = TokenFile.Write(valPath, valIds, new TokenFileInfo("", tokenizer.VocabSize, 0,
            Utf8Bytes(tokenizer, valIds, text, false), description, "val", sources));
        return new TokenCorpusFiles(outPath, train, valPath, val);
    }

    // Bits per byte needs the bytes behind each split; decoding the split's ids gives them for any tokenizer.
    static long Utf8Bytes(ITextTokenizer tokenizer, int[] ids, string whole, bool isWhole) =>
        isWhole ? Encoding.UTF8.GetByteCount(whole) : Encoding.UTF8.GetByteCount(tokenizer.Decode(ids));
}

using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Farabi.Tokenizers.Bpe;

namespace Farabi.Tokenizers.Clip;

/// <summary>
/// CLIP's text tokenizer (Radford et al. 2021; openai/CLIP <c>simple_tokenizer.py</c>, HF <c>CLIPTokenizer</c>):
/// cleanup and lower-casing, a pre-tokenizer that drops whitespace, byte-level BPE in which the last
/// symbol of every word carries a <c>&lt;/w&gt;</c> end-of-word mark, and fixed-length id rows of 77
/// framed by <c>&lt;|startoftext|&gt;</c> (49406) and <c>&lt;|endoftext|&gt;</c> (49407).
/// <para>
/// The vocabulary is built from the merges the way CLIP does it: the 256 byte characters in GPT-2's
/// byte order, the same 256 with <c>&lt;/w&gt;</c>, one token per merge in merge order, then the two
/// markers — 256 + 256 + 48,894 + 2 = 49,408 for the real <c>bpe_simple_vocab_16e6.txt.gz</c>.
/// </para>
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>The end-of-word mark glued to the last symbol of each word.</summary>
    public const string EndOfWord = "</w>";

    /// <summary>CLIP's context length.</summary>
    public const int DefaultContextLength = 77;

    /// <summary>How many merge lines CLIP reads from its merges file: 49152 - 256 - 2.</summary>
    public const int ClipMergeCount = 49152 - 256 - 2;

    readonly Dictionary<string, int> _encoder;
    readonly string[] _decoder;
    readonly Dictionary<(string, string), int> _ranks;
    readonly ConcurrentDictionary<string, string[]> _cache = new();

    /// <summary>Id of <c>&lt;|startoftext|&gt;</c> (49406 in CLIP's vocabulary).</summary>
    public int StartOfTextId { get; }

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c> (49407 in CLIP's vocabulary).</summary>
    public int EndOfTextId { get; }

    /// <summary>
    /// Id written after the end-of-text token to fill a row: 0 in openai/CLIP's <c>clip.tokenize</c>, the
    /// end-of-text id in HF's <c>openai/clip-vit-base-patch32</c> tokenizer. Models pool at the first
    /// end-of-text (or the arg-max id), so either works.
    /// </summary>
    public int PadId { get; init; }

    /// <summary>Number of tokens in the vocabulary.</summary>
    public int VocabSize => _decoder.Length;

    /// <summary>The merges in rank order.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    ClipTokenizer(Dictionary<string, int> encoder, List<(string, string)> merges, int padId)
    {
        _encoder = encoder;
        _decoder = new string[encoder.Count == 0 ? 0 : encoder.Values.Max() + 1];
        foreach (var (token, id) in encoder) _decoder[id] = token;
        Merges = merges;
        _ranks = new Dictionary<(string, string), int>(merges.Count);
        for (var r = 0; r < merges.Count; r++) _ranks.TryAdd(merges[r], r);
        StartOfTextId = encoder.TryGetValue(ClipPreTokenizer.StartOfText, out var s) ? s : throw new InvalidDataException("the CLIP vocabulary has no <|startoftext|> token.");
        EndOfTextId = encoder.TryGetValue(ClipPreTokenizer.EndOfText, out var e) ? e : throw new InvalidDataException("the CLIP vocabulary has no <|endoftext|> token.");
        PadId = padId;
    }

    /// <summary>
    /// Builds the tokenizer from merges alone, with CLIP's vocabulary order (see the class summary).
    /// At most <paramref name="maxMerges"/> are used (CLIP reads 48,894).
    /// </summary>
    public static ClipTokenizer FromMerges(IEnumerable<(string Left, string Right)> merges, int maxMerges = ClipMergeCount)
    {
        var mergeList = merges.Take(maxMerges).ToList();
        var vocab = new List<string>(512 + mergeList.Count + 2);
        foreach (var b in ByteLevel.Gpt2ByteOrder) vocab.Add(ByteLevel.ToChar(b).ToString());
        foreach (var b in ByteLevel.Gpt2ByteOrder) vocab.Add(ByteLevel.ToChar(b) + EndOfWord);
        foreach (var (l, r) in mergeList) vocab.Add(l + r);
        vocab.Add(ClipPreTokenizer.StartOfText);
        vocab.Add(ClipPreTokenizer.EndOfText);
        // As in Python's dict(zip(vocab, range)), a repeated token keeps its last id.
        var encoder = new Dictionary<string, int>(vocab.Count);
        for (var i = 0; i < vocab.Count; i++) encoder[vocab[i]] = i;
        return new ClipTokenizer(encoder, mergeList, padId: 0);
    }

    /// <summary>
    /// Loads openai/CLIP's merges file (<c>bpe_simple_vocab_16e6.txt.gz</c>, gzip or plain): the first line is
    /// a version header, then one merge "left right" per line.
    /// </summary>
    public static ClipTokenizer LoadOpenAi(string mergesPath, int maxMerges = ClipMergeCount)
    {
        var lines = ReadLines(mergesPath);
        return FromMerges(ParseMerges(lines, mergesPath, maxMerges), maxMerges);
    }

    /// <summary>
    /// Loads HF's files for <c>openai/clip-vit-base-patch32</c>: <c>vocab.json</c> (token to id) and
    /// <c>merges.txt</c> (a "#version" header, then merges). Padding uses the end-of-text id, as HF's does.
    /// </summary>
    public static ClipTokenizer LoadHf(string vocabJsonPath, string mergesPath)
    {
        if (!File.Exists(vocabJsonPath)) throw new FileNotFoundException($"the CLIP vocabulary {vocabJsonPath} does not exist.", vocabJsonPath);
        Dictionary<string, int>? encoder;
        try { encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabJsonPath)); }
        catch (JsonException e) { throw new InvalidDataException($"the CLIP vocabulary {vocabJsonPath} is not a JSON object of token to id ({e.Message})."); }
        if (encoder == null || encoder.Count == 0) throw new InvalidDataException($"the CLIP vocabulary {vocabJsonPath} is empty.");
        var ids = new HashSet<int>();
        foreach (var (token, id) in encoder)
            if (id < 0 || !ids.Add(id)) throw new InvalidDataException($"the CLIP vocabulary {vocabJsonPath} gives token \"{token}\" the {(id < 0 ? "negative" : "repeated")} id {id}.");
        var merges = ParseMerges(ReadLines(mergesPath), mergesPath, ClipMergeCount);
        for (var i = 0; i < merges.Count; i++)
            if (!encoder.ContainsKey(merges[i].Left + merges[i].Right))
                throw new InvalidDataException($"{mergesPath} line {i + 2}: the merge result \"{merges[i].Left + merges[i].Right}\" is not in {vocabJsonPath}.");
        // HF pads with "<|endoftext|>"; a vocabulary without it is rejected by the constructor.
        return new ClipTokenizer(encoder, merges, padId: encoder.GetValueOrDefault(ClipPreTokenizer.EndOfText));
    }

    /// <summary>Writes HF-style <c>vocab.json</c> and <c>merges.txt</c> into <paramref name="folder"/>, atomically.</summary>
    public void SaveHf(string folder)
    {
        var ordered = _encoder.OrderBy(kv => kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value);
        AtomicFile.WriteText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(ordered));
        var sb = new StringBuilder("#version: 0.2\n");
        foreach (var (l, r) in Merges) sb.Append(l).Append(' ').Append(r).Append('\n');
        AtomicFile.WriteText(Path.Combine(folder, "merges.txt"), sb.ToString());
    }

    static string[] ReadLines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the CLIP merges file {path} does not exist.", path);
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        var gz = file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        using Stream stream = gz ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true));
        try { return reader.ReadToEnd().Split('\n'); }
        catch (Exception e) when (e is DecoderFallbackException or InvalidDataException)
        {
            throw new InvalidDataException($"the CLIP merges file {path} is not valid {(gz ? "gzip-compressed " : "")}UTF-8 text ({e.Message}).");
        }
    }

    /// <summary>CLIP's <c>split('\n')[1:maxMerges+1]</c>: skip the header, keep blank-free "a b" lines.</summary>
    static List<(string Left, string Right)> ParseMerges(string[] lines, string path, int maxMerges)
    {
        // The real file's header is '"bpe_simple_vocab_16e6.txt#version: 0.2', HF's '#version: 0.2'; CLIP skips
        // line 1 unread, so a file without a header would silently lose its best merge: refuse it instead.
        if (lines.Length == 0 || !lines[0].Contains("#version", StringComparison.Ordinal) && !lines[0].StartsWith('#'))
            throw new InvalidDataException($"the CLIP merges file {path} must start with a version header line (e.g. \"#version: 0.2\"), not \"{(lines.Length == 0 ? "" : lines[0])}\".");
        var merges = new List<(string Left, string Right)>();
        for (var i = 1; i < lines.Length && merges.Count < maxMerges; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0) continue; // the trailing newline leaves one empty line
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2) throw new InvalidDataException($"{path} line {i + 1}: a merge is two symbols separated by a space, not \"{line}\".");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    /// <summary>The BPE symbols of one pre-tokenized piece (already byte-encoded), CLIP's <c>bpe()</c>.</summary>
    internal string[] Bpe(string token)
    {
        if (token is ClipPreTokenizer.StartOfText or ClipPreTokenizer.EndOfText) return [token];
        if (_cache.TryGetValue(token, out var cached)) return cached;
        var word = new List<string>(token.Length);
        for (var i = 0; i < token.Length - 1; i++) word.Add(token[i].ToString());
        word.Add(token[^1] + EndOfWord);
        while (word.Count > 1)
        {
            // The adjacent pair with the lowest merge rank.
            var best = int.MaxValue;
            (string, string) bigram = default;
            for (var i = 0; i < word.Count - 1; i++)
                if (_ranks.TryGetValue((word[i], word[i + 1]), out var r) && r < best) { best = r; bigram = (word[i], word[i + 1]); }
            if (best == int.MaxValue) break;
            // Merge every non-overlapping occurrence, left to right.
            var merged = new List<string>(word.Count);
            for (var i = 0; i < word.Count;)
            {
                if (i < word.Count - 1 && word[i] == bigram.Item1 && word[i + 1] == bigram.Item2) { merged.Add(bigram.Item1 + bigram.Item2); i += 2; }
                else merged.Add(word[i++]);
            }
            word = merged;
        }
        var result = word.ToArray();
        if (_cache.Count < 100_000) _cache.TryAdd(token, result);
        return result;
    }

    /// <summary>The ids of <paramref name="text"/> after cleanup, without start/end markers (CLIP's <c>encode</c>).</summary>
    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var piece in ClipPreTokenizer.Split(ClipTextCleaner.Clean(text)))
        {
            var encoded = ByteLevel.Encode(Encoding.UTF8.GetBytes(piece));
            foreach (var symbol in Bpe(encoded))
            {
                if (!_encoder.TryGetValue(symbol, out var id))
                    throw new InvalidOperationException($"the BPE symbol \"{symbol}\" of \"{piece}\" is not in the vocabulary; the vocabulary and merges do not match.");
                ids.Add(id);
            }
        }
        return ids;
    }

    /// <summary>The token strings of <paramref name="text"/> (for inspection), e.g. "hello&lt;/w&gt;".</summary>
    public List<string> EncodeToTokens(string text) => Encode(text).Select(id => _decoder[id]).ToList();

    /// <summary>Text back from ids: bytes decoded as UTF-8 (invalid sequences replaced), each <c>&lt;/w&gt;</c> becomes a space.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_decoder.Length || _decoder[id] is null) throw new ArgumentException($"token id {id} is not in the CLIP vocabulary of {_decoder.Length}.");
            sb.Append(_decoder[id]);
        }
        // Markers are printable ASCII, which ByteLevel maps to itself, so they decode to their own text.
        var chars = sb.ToString();
        var bytes = new List<byte>(chars.Length);
        for (var i = 0; i < chars.Length; i++)
        {
            if (string.CompareOrdinal(chars, i, EndOfWord, 0, EndOfWord.Length) == 0) { bytes.Add((byte)' '); i += EndOfWord.Length - 1; continue; }
            if (!ByteLevel.TryDecode(chars.AsSpan(i, 1), out var b)) throw new ArgumentException($"token text \"{chars[i]}\" is not byte-level.");
            bytes.Add(b[0]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// One row of <paramref name="contextLength"/> ids for the text tower: start-of-text, the text's ids,
    /// end-of-text, then <see cref="PadId"/>. A text that does not fit is an error unless
    /// <paramref name="truncate"/>, which cuts it and keeps end-of-text as the last id (as <c>clip.tokenize</c>).
    /// </summary>
    public int[] Tokenize(string text, int contextLength = DefaultContextLength, bool truncate = false)
    {
        if (contextLength < 2) throw new ArgumentException($"the context length must be at least 2, not {contextLength}.");
        var ids = Encode(text);
        var row = new int[contextLength];
        Array.Fill(row, PadId);
        var length = ids.Count + 2;
        if (length > contextLength)
        {
            if (!truncate)
                throw new ArgumentException($"the text \"{Shorten(text)}\" is {length} tokens long, more than the context length {contextLength}; shorten it or truncate.");
            length = contextLength;
        }
        row[0] = StartOfTextId;
        for (var i = 1; i < length - 1; i++) row[i] = ids[i - 1];
        row[length - 1] = EndOfTextId;
        return row;
    }

    /// <summary><see cref="Tokenize(string, int, bool)"/> for several texts.</summary>
    public int[][] Tokenize(IReadOnlyList<string> texts, int contextLength = DefaultContextLength, bool truncate = false) =>
        texts.Select(t => Tokenize(t, contextLength, truncate)).ToArray();

    /// <summary>The id of a token string, e.g. "cat&lt;/w&gt;"; null when absent.</summary>
    public int? TokenToId(string token) => _encoder.TryGetValue(token, out var id) ? id : null;

    /// <summary>The token string of an id.</summary>
    public string IdToToken(int id) => (uint)id < (uint)_decoder.Length ? _decoder[id] : throw new ArgumentException($"token id {id} is not in the CLIP vocabulary of {_decoder.Length}.");

    static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}

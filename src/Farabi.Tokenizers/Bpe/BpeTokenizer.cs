using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Farabi.Tokenizers.PreTokenizers;

namespace Farabi.Tokenizers.Bpe;

/// <summary>
/// A byte-level BPE tokenizer with tiktoken's semantics (GPT-2, cl100k_base, o200k_base and
/// vocabularies trained here). Text is cut into pieces by a <see cref="PreTokenizers.PreTokenizer"/>;
/// each piece's UTF-8 bytes become one id when the whole piece is a token, otherwise they are merged
/// pair by pair, lowest merge rank first (Sennrich et al. 2016; Radford et al. 2019 for the byte level).
/// <para>
/// Speed comes from three things: pieces are walked in the caller's span (no string per piece), the
/// vocabulary is a hash table keyed by byte slices, and each thread caches the pieces it had to merge.
/// Encoding into a caller's list, span or counter allocates nothing per token. Instances are immutable
/// and thread-safe.
/// </para>
/// </summary>
public sealed partial class BpeTokenizer
{
    readonly ByteSpanMap _vocab;
    readonly int[] _byteIds = new int[256];
    readonly byte[] _decodeArena;
    readonly int[] _decodeStart; // id's bytes are _decodeArena[_decodeStart[id] ..][.._decodeLength[id]]
    readonly int[] _decodeLength; // -1 marks an id no token uses
    readonly Dictionary<string, int> _specials;
    readonly SpecialMatcher _allSpecials;
    readonly ThreadLocal<Worker> _workers;

    /// <summary>
    /// Builds a tokenizer from its mergeable tokens. <paramref name="tokens"/> holds each token's bytes,
    /// id and merge rank (lower merges first; <see cref="int.MaxValue"/> for a token no merge forms, which
    /// is still used when a whole piece equals it). All 256 single bytes must be present.
    /// </summary>
    internal BpeTokenizer(string name, PreTokenizer preTokenizer, IReadOnlyList<(byte[] Bytes, int Id, int Rank)> tokens,
        IReadOnlyDictionary<string, int> specialTokens, string? source = null)
    {
        Name = name;
        PreTokenizer = preTokenizer;
        var where = source == null ? "the vocabulary" : source;
        _vocab = new ByteSpanMap(tokens);
        Array.Fill(_byteIds, -1);
        var maxId = -1;
        var ids = new HashSet<int>();
        foreach (var (bytes, id, _) in tokens)
        {
            if (id < 0) throw new InvalidDataException($"{where}: token id {id} is negative.");
            if (!ids.Add(id)) throw new InvalidDataException($"{where}: token id {id} is used twice.");
            if (bytes.Length == 0) throw new InvalidDataException($"{where}: token id {id} has no bytes.");
            if (bytes.Length == 1) _byteIds[bytes[0]] = id;
            maxId = Math.Max(maxId, id);
        }
        for (var b = 0; b < 256; b++)
            if (_byteIds[b] < 0) throw new InvalidDataException($"{where}: the single byte 0x{b:X2} is not a token; byte-level BPE needs all 256.");
        _specials = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (text, id) in specialTokens)
        {
            if (text.Length == 0) throw new InvalidDataException($"{where}: a special token is empty.");
            if (!ids.Add(id)) throw new InvalidDataException($"{where}: special token {text} has id {id}, which another token already uses.");
            _specials[text] = id;
            maxId = Math.Max(maxId, id);
        }
        VocabSize = maxId + 1;
        var byId = new byte[VocabSize][];
        foreach (var (bytes, id, _) in tokens) byId[id] = bytes;
        foreach (var (text, id) in _specials) byId[id] = Encoding.UTF8.GetBytes(text);
        _decodeArena = new byte[byId.Sum(b => b?.Length ?? 0)];
        _decodeStart = new int[VocabSize];
        _decodeLength = new int[VocabSize];
        var pos = 0;
        for (var id = 0; id < VocabSize; id++)
        {
            if (byId[id] is not { } b) { _decodeLength[id] = -1; continue; }
            _decodeStart[id] = pos;
            _decodeLength[id] = b.Length;
            b.CopyTo(_decodeArena, pos);
            pos += b.Length;
        }
        _allSpecials = new SpecialMatcher(_specials.Keys);
        _workers = new ThreadLocal<Worker>(() => new Worker());
    }

    /// <summary>The encoding's name (e.g. "cl100k_base", or the file it was loaded from).</summary>
    public string Name { get; }

    /// <summary>How text is cut into pieces before merging.</summary>
    public PreTokenizer PreTokenizer { get; }

    /// <summary>One more than the largest id (specials included); ids may have gaps, as cl100k_base does.</summary>
    public int VocabSize { get; }

    /// <summary>The mergeable tokens (specials excluded).</summary>
    public int MergeableCount => _vocab.Count;

    /// <summary>The special tokens and their ids.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens => _specials;

    /// <summary>
    /// Name of the normalizer the vocabulary was trained with (from <c>farabi_tokenizer.json</c>), or null.
    /// Encoding applies it to the text between special tokens, in the order the trainer did (cut at
    /// specials, normalize each segment, pre-tokenize), so decode(encode(s)) is the normalized s.
    /// </summary>
    public string? NormalizerName => Normalizer?.Name;

    /// <summary>The normalizer applied before pre-tokenization, or null.</summary>
    public Normalizers.Normalizer? Normalizer { get; private set; }

    internal BpeTokenizer WithNormalizerName(string name) { Normalizer = Normalizers.Normalizer.FromName(name); return this; }

    // ---------------------------------------------------------------- encoding

    /// <summary>Encodes with tiktoken's default: a special token in <paramref name="text"/> is an error.</summary>
    public int[] Encode(string text) => Encode(text.AsSpan(), SpecialTokenPolicy.DisallowAll);

    /// <summary>Encodes <paramref name="text"/>, treating special tokens as <paramref name="specials"/> says.</summary>
    public int[] Encode(string text, SpecialTokenPolicy specials) => Encode(text.AsSpan(), specials);

    /// <summary>
    /// tiktoken's <c>encode(text, allowed_special, disallowed_special)</c>: specials in
    /// <paramref name="allowedSpecial"/> become ids; <paramref name="disallowedSpecial"/> null means all
    /// others are errors, empty means they are text.
    /// </summary>
    public int[] Encode(string text, IEnumerable<string> allowedSpecial, IEnumerable<string>? disallowedSpecial = null) =>
        Encode(text.AsSpan(), SpecialTokenPolicy.Allow(allowedSpecial, disallowedSpecial));

    /// <summary>Encodes <paramref name="text"/>, treating special tokens as <paramref name="specials"/> says.</summary>
    public int[] Encode(ReadOnlySpan<char> text, SpecialTokenPolicy specials)
    {
        var w = _workers.Value!;
        var list = w.Output;
        list.Clear();
        Encode(text, list, specials);
        var result = list.ToArray();
        if (list.Capacity > 1 << 20) w.Output = new List<int>(); // do not pin a huge buffer per thread
        return result;
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/> (no allocation once the list has room).</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids, SpecialTokenPolicy? specials = null)
    {
        var sink = new ListSink(ids);
        EncodeWithSpecials(text, ref sink, specials ?? SpecialTokenPolicy.DisallowAll);
    }

    /// <summary>
    /// Writes the ids of <paramref name="text"/> to <paramref name="destination"/>; false (and
    /// <paramref name="written"/> = the ids that fitted) when it is too short.
    /// </summary>
    public bool TryEncode(ReadOnlySpan<char> text, Span<int> destination, out int written, SpecialTokenPolicy? specials = null)
    {
        var sink = new SpanSink(destination);
        EncodeWithSpecials(text, ref sink, specials ?? SpecialTokenPolicy.DisallowAll);
        written = Math.Min(sink.Count, destination.Length);
        return sink.Count <= destination.Length;
    }

    /// <summary>Encodes special tokens as ordinary text (tiktoken's <c>encode_ordinary</c>).</summary>
    public int[] EncodeOrdinary(string text) => Encode(text.AsSpan(), SpecialTokenPolicy.AsText);

    /// <summary>The number of tokens <paramref name="text"/> encodes to, without materialising them.</summary>
    public int CountTokens(ReadOnlySpan<char> text, SpecialTokenPolicy? specials = null)
    {
        var sink = new CountSink();
        EncodeWithSpecials(text, ref sink, specials ?? SpecialTokenPolicy.DisallowAll);
        return sink.Count;
    }

    /// <summary>Encodes many texts in parallel over the machine's cores; results are in input order.</summary>
    public int[][] EncodeBatch(IReadOnlyList<string> texts, SpecialTokenPolicy? specials = null, int maxDegreeOfParallelism = -1)
    {
        var policy = specials ?? SpecialTokenPolicy.DisallowAll;
        var result = new int[texts.Count][];
        Parallel.For(0, texts.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            i => result[i] = Encode(texts[i].AsSpan(), policy));
        return result;
    }

    void EncodeWithSpecials<TSink>(ReadOnlySpan<char> text, ref TSink sink, SpecialTokenPolicy policy) where TSink : struct, ITokenSink, allows ref struct
    {
        if (_specials.Count == 0 || ReferenceEquals(policy, SpecialTokenPolicy.AsText)) { EncodeOrdinary(text, ref sink); return; }
        if (ReferenceEquals(policy, SpecialTokenPolicy.DisallowAll))
        {
            var at = _allSpecials.IndexOf(text, out var special);
            if (at >= 0) throw DisallowedSpecial(special!);
            EncodeOrdinary(text, ref sink);
            return;
        }
        if (ReferenceEquals(policy, SpecialTokenPolicy.AllowAll)) { EncodeAllowing(text, ref sink, _allSpecials); return; }
        // A custom policy: check the disallowed ones, then split at the allowed ones.
        var allowed = _specials.Keys.Where(s => policy.AllowsAll || policy.Allowed.Contains(s)).ToArray();
        var disallowed = _specials.Keys.Where(s => !allowed.Contains(s) && (policy.DisallowOthers || policy.Disallowed.Contains(s))).ToArray();
        if (disallowed.Length > 0)
        {
            var at = new SpecialMatcher(disallowed).IndexOf(text, out var special);
            if (at >= 0) throw DisallowedSpecial(special!);
        }
        if (allowed.Length == 0) EncodeOrdinary(text, ref sink);
        else EncodeAllowing(text, ref sink, new SpecialMatcher(allowed));
    }

    static FormatException DisallowedSpecial(string special) => new(
        $"the text contains the special token {special}, which is not allowed; allow it or encode specials as text.");

    void EncodeAllowing<TSink>(ReadOnlySpan<char> text, ref TSink sink, SpecialMatcher matcher) where TSink : struct, ITokenSink, allows ref struct
    {
        while (!text.IsEmpty)
        {
            var at = matcher.IndexOf(text, out var special);
            if (at < 0) { EncodeOrdinary(text, ref sink); return; }
            EncodeOrdinary(text[..at], ref sink);
            sink.Add(_specials[special!]);
            text = text[(at + special!.Length)..];
        }
    }

    /// <summary>The hot loop: pre-tokenize, then one vocabulary probe per piece, the cache, and merging as a last resort.</summary>
    void EncodeOrdinary<TSink>(ReadOnlySpan<char> text, ref TSink sink) where TSink : struct, ITokenSink, allows ref struct
    {
        if (text.IsEmpty) return;
        if (Normalizer != null) text = Normalizer.Normalize(text.ToString());
        var w = _workers.Value!;
        var pre = PreTokenizer;
        var i = 0;
        while (i < text.Length)
        {
            var end = pre.PieceEnd(text, i);
            EncodePiece(text[i..end], ref sink, w);
            i = end;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void EncodePiece<TSink>(ReadOnlySpan<char> piece, ref TSink sink, Worker w) where TSink : struct, ITokenSink, allows ref struct
    {
        var buffer = w.Bytes;
        if (piece.Length * 3 > buffer.Length) buffer = w.Grow(piece.Length * 3);
        var n = Utf8(piece, buffer);
        if (n == 1) { sink.Add(_byteIds[buffer[0]]); return; }
        var bytes = new ReadOnlySpan<byte>(buffer, 0, n);
        var slot = _vocab.Find(bytes);
        if (slot >= 0) { sink.Add(_vocab.IdAt(slot)); return; }
        var hash = ByteSpanMap.Hash(bytes);
        var cached = w.Cache.Get(bytes, hash);
        if (cached.IsEmpty)
        {
            if (w.Ids.Length < n) w.Ids = new int[Math.Max(n, w.Ids.Length * 2)];
            var count = w.Merger.Merge(_vocab, _byteIds, bytes, w.Ids);
            cached = new ReadOnlySpan<int>(w.Ids, 0, count);
            w.Cache.Add(bytes, hash, cached);
        }
        foreach (var id in cached) sink.Add(id);
    }

    /// <summary>
    /// UTF-8 of a piece, written inline (a call into the framework per piece costs more than the
    /// encoding of a short word). A lone surrogate becomes U+FFFD's bytes, as tiktoken's Python
    /// wrapper does. <paramref name="buffer"/> has room for 3 bytes per char.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Utf8(ReadOnlySpan<char> piece, byte[] buffer)
    {
        var n = 0;
        for (var i = 0; i < piece.Length; i++)
        {
            int c = piece[i];
            if (c < 0x80) { buffer[n++] = (byte)c; continue; }
            if (c < 0x800)
            {
                buffer[n] = (byte)(0xC0 | (c >> 6));
                buffer[n + 1] = (byte)(0x80 | (c & 0x3F));
                n += 2;
                continue;
            }
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                if (c <= 0xDBFF && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]))
                {
                    var cp = char.ConvertToUtf32((char)c, piece[i + 1]);
                    buffer[n] = (byte)(0xF0 | (cp >> 18));
                    buffer[n + 1] = (byte)(0x80 | ((cp >> 12) & 0x3F));
                    buffer[n + 2] = (byte)(0x80 | ((cp >> 6) & 0x3F));
                    buffer[n + 3] = (byte)(0x80 | (cp & 0x3F));
                    n += 4;
                    i++;
                    continue;
                }
                c = 0xFFFD;
            }
            buffer[n] = (byte)(0xE0 | (c >> 12));
            buffer[n + 1] = (byte)(0x80 | ((c >> 6) & 0x3F));
            buffer[n + 2] = (byte)(0x80 | (c & 0x3F));
            n += 3;
        }
        return n;
    }

    // ---------------------------------------------------------------- decoding

    /// <summary>True when <paramref name="id"/> is a token (mergeable or special) of this vocabulary.</summary>
    public bool ContainsId(int id) => (uint)id < (uint)VocabSize && _decodeLength[id] >= 0;

    /// <summary>The bytes of one token (specials as their UTF-8 text).</summary>
    public ReadOnlySpan<byte> TokenBytes(int id)
    {
        if ((uint)id >= (uint)VocabSize || _decodeLength[id] < 0)
            throw new ArgumentOutOfRangeException(nameof(id), $"token id {id} is not in the vocabulary of {Name} (size {VocabSize}).");
        return _decodeArena.AsSpan(_decodeStart[id], _decodeLength[id]);
    }

    /// <summary>The concatenated bytes of <paramref name="ids"/>.</summary>
    public byte[] DecodeBytes(ReadOnlySpan<int> ids)
    {
        var total = 0;
        foreach (var id in ids) total += TokenBytes(id).Length;
        var result = new byte[total];
        var pos = 0;
        foreach (var id in ids)
        {
            var b = TokenBytes(id);
            b.CopyTo(result.AsSpan(pos));
            pos += b.Length;
        }
        return result;
    }

    /// <summary>The text of <paramref name="ids"/>; bytes that are not valid UTF-8 become U+FFFD (tiktoken's <c>errors="replace"</c>).</summary>
    public string Decode(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    /// <summary>A decoder for ids that arrive one at a time (generation): it emits text only at UTF-8 character boundaries.</summary>
    public StreamingDecoder CreateStreamingDecoder() => new(this);

    /// <summary>The id of the mergeable token whose bytes are <paramref name="bytes"/>; null when there is none.</summary>
    public int? TokenId(ReadOnlySpan<byte> bytes)
    {
        var slot = _vocab.Find(bytes);
        return slot >= 0 ? _vocab.IdAt(slot) : null;
    }

    /// <summary>The mergeable tokens as (bytes, id, merge rank), in entry order.</summary>
    internal IEnumerable<(byte[] Bytes, int Id, int Rank)> MergeableTokens()
    {
        for (var e = 0; e < _vocab.Count; e++) yield return (_vocab.Key(e).ToArray(), _vocab.EntryId(e), _vocab.EntryRank(e));
    }

    internal ByteSpanMap Vocabulary => _vocab;
    internal int[] ByteIds => _byteIds;

    /// <summary>Merges <paramref name="bytes"/> using only ranks below <paramref name="rankLimit"/> (to recover a token's merge pair).</summary>
    internal int[] MergeBelow(ReadOnlySpan<byte> bytes, int rankLimit)
    {
        if (bytes.Length == 1) return [_byteIds[bytes[0]]];
        var ids = new int[bytes.Length];
        var n = _workers.Value!.Merger.MergeBelow(_vocab, _byteIds, bytes, ids, rankLimit);
        return ids[..n];
    }

    /// <summary>Per-thread scratch space: the UTF-8 buffer, the merger's arrays and the piece cache.</summary>
    sealed class Worker
    {
        public byte[] Bytes = new byte[256];
        public int[] Ids = new int[256];
        public List<int> Output = new();
        public readonly BytePairMerger Merger = new();
        public readonly PieceCache Cache = new();

        public byte[] Grow(int size) => Bytes = new byte[Math.Max(size, Bytes.Length * 2)];
    }
}

/// <summary>Where encoded ids go: a list, a span or a counter; generic so the JIT specialises the hot loop for each.</summary>
interface ITokenSink
{
    void Add(int id);
}

struct ListSink(List<int> list) : ITokenSink
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Add(int id) => list.Add(id);
}

struct CountSink : ITokenSink
{
    public int Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int id) => Count++;
}

ref struct SpanSink(Span<int> destination) : ITokenSink
{
    readonly Span<int> _destination = destination;
    public int Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int id)
    {
        if (Count < _destination.Length) _destination[Count] = id;
        Count++;
    }
}

/// <summary>Finds the leftmost special token in a text (the longest one when several start there).</summary>
sealed class SpecialMatcher
{
    readonly SearchValues<char> _firstChars;
    readonly string[] _specials; // longest first, so the first match at a position is the longest

    public SpecialMatcher(IEnumerable<string> specials)
    {
        _specials = specials.OrderByDescending(s => s.Length).ThenBy(s => s, StringComparer.Ordinal).ToArray();
        _firstChars = SearchValues.Create(_specials.Select(s => s[0]).Distinct().ToArray());
    }

    public int IndexOf(ReadOnlySpan<char> text, out string? special)
    {
        special = null;
        if (_specials.Length == 0) return -1;
        var offset = 0;
        while (true)
        {
            var at = text[offset..].IndexOfAny(_firstChars);
            if (at < 0) return -1;
            at += offset;
            foreach (var s in _specials)
                if (text[at..].StartsWith(s, StringComparison.Ordinal)) { special = s; return at; }
            offset = at + 1;
        }
    }
}

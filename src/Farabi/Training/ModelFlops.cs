using System.Diagnostics;
using Farabi.Models;
using static TorchSharp.torch;

namespace Farabi.Training;

/// <summary>
/// Model FLOPs utilisation (Chowdhery et al. 2022, PaLM, appendix B; nanoGPT's <c>estimate_mfu</c>): the FLOPs a
/// training step must do (<see cref="CausalLanguageModel.TrainingFlopsPerToken"/>: <c>6N + 12·L·C·T</c> per token),
/// divided by time and by the machine's peak.
/// Here the peak is not a data-sheet number but fp32 matmul throughput measured on this machine at start-up.
/// </summary>
public static class ModelFlops
{
    static readonly Lazy<double> Peak = new(() => MeasureMatmulPeak(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The fp32 matmul throughput of this process (FLOP/s): the best of a few square products of sizes 512 and
    /// 1024 after a warm-up, measured once per process and cached.
    /// </summary>
    public static double MatmulPeakFlops => Peak.Value;

    /// <summary>Measures matmul throughput now (FLOP/s), best of <paramref name="repeats"/> per size.</summary>
    public static double MeasureMatmulPeak(int repeats = 3)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var g = new Generator(0, CPU);
        var best = 0.0;
        foreach (var n in new[] { 512, 1024 })
        {
            var a = randn([n, n], generator: g);
            var b = randn([n, n], generator: g);
            a.matmul(b).Dispose(); // warm-up: thread pool and kernels
            for (var i = 0; i < repeats; i++)
            {
                var clock = Stopwatch.StartNew();
                using var c = a.matmul(b);
                c.sum().item<float>(); // force completion
                best = Math.Max(best, 2.0 * n * n * n / clock.Elapsed.TotalSeconds);
            }
        }
        return best;
    }

    /// <summary>MFU of a step that processed <paramref name="tokens"/> tokens in <paramref name="seconds"/>.</summary>
    public static double Utilisation(double flopsPerToken, double tokens, double seconds, double peakFlops) =>
        seconds <= 0 || peakFlops <= 0 ? 0 : flopsPerToken * tokens / seconds / peakFlops;
}

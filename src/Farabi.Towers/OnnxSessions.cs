using Microsoft.ML.OnnxRuntime;

namespace Farabi.Towers;

/// <summary>How the towers' ONNX Runtime sessions use the CPU.</summary>
public static class OnnxSessions
{
    /// <summary>
    /// Session options with <paramref name="threads"/> intra-op threads (0 = ONNX Runtime's default, one per core).
    /// One thread is the right default on a shared two-core machine, for the same reason as libtorch's: on a busy
    /// machine extra threads wait on each other more than they help.
    /// </summary>
    public static SessionOptions Create(int threads)
    {
        if (threads < 0) throw new ArgumentException($"threads must be 0 or more, got {threads}.");
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, InterOpNumThreads = 1 };
        if (threads > 0) options.IntraOpNumThreads = threads;
        return options;
    }
}

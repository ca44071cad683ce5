namespace Farabi.Training;

/// <summary>libtorch's intra-op thread count, set through Farabi so that the native library is patched and loaded first.</summary>
public static class TorchThreads
{
    /// <summary>Uses <paramref name="count"/> threads for tensor operations.</summary>
    /// <exception cref="ArgumentException">A count below 1.</exception>
    public static void Set(int count)
    {
        if (count < 1) throw new ArgumentException($"The thread count must be at least 1, got {count}.");
        Farabi.Native.GlibcxxCompat.EnsureLoadable();
        TorchSharp.torch.set_num_threads(count);
    }

    /// <summary>The current intra-op thread count.</summary>
    public static int Count
    {
        get
        {
            Farabi.Native.GlibcxxCompat.EnsureLoadable();
            return TorchSharp.torch.get_num_threads();
        }
    }
}

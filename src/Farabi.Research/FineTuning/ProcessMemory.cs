using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Farabi.Research.FineTuning;

/// <summary>
/// This process's resident memory, measured so that each method of a comparison run in one process gets a figure
/// of its own: <see cref="StartWindow"/> returns freed memory to the system and resets the peak, and the
/// window's peak minus the resident size at its start is what the method added (<see cref="MemoryWindow.PeakAboveStartMb"/>).
/// </summary>
/// <remarks>
/// The process's absolute peak is dominated by what every method shares (the .NET runtime, libtorch, the pretrained
/// model and the encoded data: about 1.7 GB in the SST-2 run), so on its own it cannot tell the methods apart. The
/// growth above the start counts what training adds: the gradients, AdamW's two moments, the activations autograd
/// keeps for the backward pass, and any adapter copies. It assumes the allocator does not serve the method from
/// memory it already holds, which is why the window trims the heap first (glibc <c>malloc_trim</c>; libtorch's CPU
/// allocator is plain malloc).
/// </remarks>
public static class ProcessMemory
{
    /// <summary>
    /// Collects garbage (so tensors an earlier method left to finalizers are freed), hands free heap pages back to
    /// the system, resets the peak to the current resident size (Linux: writing 5 to <c>/proc/self/clear_refs</c>
    /// resets VmHWM) and returns the window that starts now.
    /// </summary>
    public static MemoryWindow StartWindow()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        TrimHeap();
        var resetWorked = ResetPeak();
        return new MemoryWindow(CurrentMb(), resetWorked);
    }

    /// <summary>
    /// Resets the peak to the current resident size (Linux: VmHWM through <c>/proc/self/clear_refs</c>); false when
    /// that is not possible here, and then the peak stays the whole process's.
    /// </summary>
    public static bool ResetPeak()
    {
        try
        {
            if (!File.Exists("/proc/self/clear_refs")) return false;
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Peak resident memory since the last reset (or since start), MB.</summary>
    public static double PeakMb() => StatusKb("VmHWM:") is { } kb ? kb / 1024.0 : Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

    /// <summary>Current resident memory, MB.</summary>
    public static double CurrentMb() => StatusKb("VmRSS:") is { } kb ? kb / 1024.0 : Process.GetCurrentProcess().WorkingSet64 / 1048576.0;

    static long? StatusKb(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? null : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    /// <summary>Returns the C heap's free pages to the system (glibc only; elsewhere a no-op).</summary>
    static void TrimHeap()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries have no malloc_trim: the growth figure is then a lower bound.
        }
    }
}

/// <summary>A stretch of time whose peak resident memory is measured (see <see cref="ProcessMemory.StartWindow"/>).</summary>
/// <param name="StartMb">Resident memory when the window opened, after garbage collection and heap trimming, MB.</param>
/// <param name="PeakIsWindowed">Whether the peak was reset at the start; false where only the process's lifetime peak is known.</param>
public sealed record MemoryWindow(double StartMb, bool PeakIsWindowed)
{
    /// <summary>Peak resident memory since the window opened (the process's peak when it could not be reset), MB.</summary>
    public double PeakMb => ProcessMemory.PeakMb();

    /// <summary>How far the resident memory rose above its size at the start: what the measured work added, MB.</summary>
    public double PeakAboveStartMb => Math.Max(0, PeakMb - StartMb);
}

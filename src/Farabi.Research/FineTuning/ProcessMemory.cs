using System.Diagnostics;
using System.Globalization;

namespace Farabi.Research.FineTuning;

/// <summary>This process's peak resident memory, resettable on Linux so that each method of a comparison gets its own peak.</summary>
public static class ProcessMemory
{
    /// <summary>
    /// Resets the peak to the current resident size (Linux: writing 5 to <c>/proc/self/clear_refs</c> resets VmHWM);
    /// elsewhere the peak stays the process's.
    /// </summary>
    public static void ResetPeak()
    {
        try
        {
            if (File.Exists("/proc/self/clear_refs")) File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not allowed here: the peak is the whole process's, still an upper bound.
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
}

using System.Diagnostics;

namespace Farabi.Cli;

/// <summary>
/// Progress for long work, on stderr so stdout stays machine-readable: a bar redrawn in place on a
/// terminal, plain lines (about every 10%, or every <c>plainEvery</c> seconds) when redirected.
/// </summary>
public sealed class ProgressBar : IDisposable
{
    readonly string _label;
    readonly long _total;
    readonly TextWriter _out;
    readonly bool _interactive;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly double _plainEvery;
    double _lastDraw = double.NegativeInfinity;
    long _lastPlainDecile = -1;
    bool _finished;

    public ProgressBar(string label, long total, TextWriter? output = null, bool? interactive = null, double plainEvery = 30)
    {
        _label = label;
        _total = Math.Max(1, total);
        _out = output ?? Console.Error;
        _interactive = interactive ?? (!Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") == null);
        _plainEvery = plainEvery;
    }

    /// <summary>Elapsed time since the bar was created.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Reports that <paramref name="done"/> of the total units are complete, with a status text (loss, tokens/s...).</summary>
    public void Report(long done, string status = "")
    {
        var now = _clock.Elapsed.TotalSeconds;
        var frac = Math.Clamp(done / (double)_total, 0, 1);
        var eta = done > 0 ? TimeSpan.FromSeconds(now / done * (_total - done)) : TimeSpan.Zero;
        if (_interactive)
        {
            if (now - _lastDraw < 0.1 && done < _total) return;
            _lastDraw = now;
            const int width = 28;
            var filled = (int)Math.Round(frac * width);
            var bar = new string('█', filled) + new string('░', width - filled);
            _out.Write($"\r{_label} {bar} {done}/{_total} {status} eta {Format(eta)}\u001b[K");
        }
        else
        {
            var decile = (long)(frac * 10);
            if (decile == _lastPlainDecile && now - _lastDraw < _plainEvery && done < _total) return;
            _lastPlainDecile = decile;
            _lastDraw = now;
            _out.WriteLine($"{_label}: {done}/{_total} ({frac:P0}) {status} elapsed {Format(_clock.Elapsed)} eta {Format(eta)}");
        }
    }

    /// <summary>Ends the bar's line.</summary>
    public void Dispose()
    {
        if (_finished) return;
        _finished = true;
        if (_interactive) _out.WriteLine();
    }

    static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"m\:ss");
}

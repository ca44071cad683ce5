namespace Farabi.Tokenizers;

/// <summary>
/// Writes files so that a reader never sees half of one: the content goes to a temporary file in
/// the same folder, which is then renamed over the target. An interrupted write leaves the old
/// file (or none) in place. Shared by every layer of Farabi (vocabularies, checkpoints, reports).
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Writes UTF-8 text (no byte-order mark) atomically.</summary>
    public static void WriteText(string path, string text) => Write(path, s =>
    {
        using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
        w.Write(text);
    });

    /// <summary>Writes bytes atomically.</summary>
    public static void WriteBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }
}

using System.Buffers.Binary;
using System.Text;

namespace Farabi.Native;

/// <summary>
/// Lets TorchSharp 0.107's native shim load on systems whose libstdc++ predates GCC 13
/// (Debian 12, Ubuntu 22.04 stop at GLIBCXX_3.4.30).
/// </summary>
/// <remarks>
/// <c>libLibTorchSharp.so</c> asks for the symbol version <c>GLIBCXX_3.4.32</c> for a single
/// symbol, <c>std::ios_base_library_init()</c>, that nothing calls. The dynamic linker refuses
/// the whole library when a required version is missing, and TorchSharp then reports a
/// misleading "doesn't contain a reference to libtorch-cpu-linux-x64". Marking that one version
/// requirement weak (<c>VER_FLG_WEAK</c> in its <c>Vernaux</c> entry of <c>.gnu.version_r</c>)
/// turns the hard failure into nothing at all, because the symbol is bound lazily and never used.
/// The file is patched in the application's own output folder (never the NuGet cache), through a
/// temporary file and a rename, and only when the system libstdc++ lacks the version.
/// </remarks>
public static class GlibcxxCompat
{
    /// <summary>The version that GCC 13 added and that TorchSharp 0.107 was linked against.</summary>
    public const string MissingVersion = "GLIBCXX_3.4.32";

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    static readonly string[] LibStdCxxDirectories =
    [
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/usr/lib", "/lib",
        "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
    ];

    static readonly object Gate = new();
    static bool _done;

    /// <summary>
    /// Patches <c>libLibTorchSharp.so</c> beside the application when the system needs it. Call
    /// before the first use of <c>torch</c>; cheap and safe to call many times.
    /// </summary>
    public static void EnsureLoadable()
    {
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            if (!OperatingSystem.IsLinux() || SystemHasVersion(MissingVersion)) return;
            var shim = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
            if (!File.Exists(shim))
            {
                var alt = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
                if (!File.Exists(alt)) return;
                shim = alt;
            }
            try { MarkVersionWeak(shim, MissingVersion); }
            catch (UnauthorizedAccessException) { /* read-only install: loading will report its own error */ }
            catch (IOException) { }
        }
    }

    /// <summary>True when a libstdc++ on the usual library paths defines <paramref name="version"/>.</summary>
    public static bool SystemHasVersion(string version)
    {
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (var dir in LibStdCxxDirectories)
        {
            var lib = Path.Combine(dir, "libstdc++.so.6");
            if (!File.Exists(lib)) continue;
            if (File.ReadAllBytes(lib).AsSpan().IndexOf(needle) >= 0) return true;
        }
        return false;
    }

    /// <summary>
    /// Sets <c>VER_FLG_WEAK</c> on every <c>Vernaux</c> entry named <paramref name="version"/> in the
    /// ELF64 little-endian file at <paramref name="path"/>. Returns true when the file changed, false
    /// when it already was weak or does not require that version. Writes a temporary file and renames.
    /// </summary>
    public static bool MarkVersionWeak(string path, string version)
    {
        var bytes = File.ReadAllBytes(path);
        var offsets = FindVernauxFlags(bytes, version, path);
        var changed = false;
        foreach (var off in offsets)
        {
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(off));
            if ((flags & VerFlagWeak) != 0) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(off), (ushort)(flags | VerFlagWeak));
            changed = true;
        }
        if (!changed) return false;
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
        return true;
    }

    /// <summary>True when every requirement of <paramref name="version"/> in the file is weak (or there is none).</summary>
    public static bool IsVersionWeak(string path, string version)
    {
        var bytes = File.ReadAllBytes(path);
        return FindVernauxFlags(bytes, version, path)
            .All(off => (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(off)) & VerFlagWeak) != 0);
    }

    /// <summary>File offsets of the <c>vna_flags</c> fields whose <c>vna_name</c> is <paramref name="version"/>.</summary>
    static List<int> FindVernauxFlags(byte[] elf, string version, string path)
    {
        var span = elf.AsSpan();
        if (elf.Length < 64 || span[0] != 0x7f || span[1] != (byte)'E' || span[2] != (byte)'L' || span[3] != (byte)'F')
            throw new InvalidDataException($"{path} is not an ELF file.");
        if (span[4] != 2 || span[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");

        var shoff = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        var result = new List<int>();
        var want = Encoding.ASCII.GetBytes(version);

        for (var i = 0; i < shnum; i++)
        {
            var sh = span.Slice(shoff + i * shentsize, shentsize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed) continue;
            var secOff = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]));
            var link = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]);
            var count = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]);
            var strSh = span.Slice(shoff + link * shentsize, shentsize);
            var strOff = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(strSh[24..]));

            var vn = secOff;
            for (var n = 0; n < count; n++)
            {
                int vnCnt = BinaryPrimitives.ReadUInt16LittleEndian(span[(vn + 2)..]);
                var vnAux = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(vn + 8)..]);
                var vnNext = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(vn + 12)..]);
                var aux = vn + vnAux;
                for (var a = 0; a < vnCnt; a++)
                {
                    var nameOff = strOff + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(aux + 8)..]);
                    var name = span[nameOff..];
                    var end = name.IndexOf((byte)0);
                    if (end >= 0 && name[..end].SequenceEqual(want)) result.Add(aux + 4);
                    var next = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(aux + 12)..]);
                    if (next == 0) break;
                    aux += next;
                }
                if (vnNext == 0) break;
                vn += vnNext;
            }
        }
        return result;
    }
}

using Farabi.Native;
using Xunit;

namespace Farabi.Tests.Native;

public class GlibcxxCompatTests
{
    static string ShimCopy()
    {
        var shim = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.True(File.Exists(shim), "libLibTorchSharp.so is in the test output folder");
        var copy = Path.Combine(Path.GetTempPath(), $"farabi-shim-{Guid.NewGuid():N}.so");
        File.Copy(shim, copy);
        return copy;
    }

    [Fact]
    public void MarkingTheVersionWeakIsIdempotentAndTouchesOnlyTheFlag()
    {
        var copy = ShimCopy();
        try
        {
            // Start from the file as NuGet ships it: strong requirement (undo a patch the test host may have applied).
            var original = File.ReadAllBytes(copy);
            var patchedOnce = GlibcxxCompat.MarkVersionWeak(copy, GlibcxxCompat.MissingVersion);
            var afterFirst = File.ReadAllBytes(copy);
            Assert.True(GlibcxxCompat.IsVersionWeak(copy, GlibcxxCompat.MissingVersion));
            Assert.False(GlibcxxCompat.MarkVersionWeak(copy, GlibcxxCompat.MissingVersion));
            Assert.Equal(afterFirst, File.ReadAllBytes(copy));
            // At most one 2-byte flag field differs from the input.
            var diff = Enumerable.Range(0, original.Length).Count(i => original[i] != afterFirst[i]);
            Assert.True(patchedOnce ? diff == 1 : diff == 0, $"{diff} bytes changed");
            Assert.Equal(original.Length, afterFirst.Length);
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void AVersionTheFileDoesNotRequireIsLeftAlone()
    {
        var copy = ShimCopy();
        try
        {
            var before = File.ReadAllBytes(copy);
            Assert.False(GlibcxxCompat.MarkVersionWeak(copy, "GLIBCXX_9.9.99"));
            Assert.Equal(before, File.ReadAllBytes(copy));
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void NonElfInputIsAClearError()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not an elf file at all, just some text that is long enough to read a header from it");
            var e = Assert.Throws<InvalidDataException>(() => GlibcxxCompat.MarkVersionWeak(path, "X"));
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TorchLoadsAfterTheFix()
    {
        GlibcxxCompat.EnsureLoadable();
        using var t = TorchSharp.torch.ones(2, 3);
        Assert.Equal(6.0f, t.sum().item<float>());
    }
}

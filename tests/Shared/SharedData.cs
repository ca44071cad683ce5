using Xunit;

namespace Farabi.Testing;

/// <summary>
/// Locates the real data sets in <c>../shared/data</c> beside the project root. Tests that need one
/// call <see cref="Require"/>, which skips them with a clear message when the folder is absent.
/// </summary>
public static class SharedData
{
    /// <summary>The <c>shared/data</c> folder, or null when it is not beside the project.</summary>
    public static readonly string? Root = Find();

    static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("FARABI_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Farabi.slnx")))
            {
                var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        }
        return null;
    }

    /// <summary>The full path of <paramref name="relative"/> under shared/data; skips the test when missing.</summary>
    public static string Require(string relative)
    {
        var path = Root == null ? null : Path.Combine(Root, relative);
        Assert.SkipWhen(path == null || !(File.Exists(path) || Directory.Exists(path)),
            $"../shared/data/{relative} is not present beside the project");
        return path!;
    }
}

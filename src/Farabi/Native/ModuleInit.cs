using System.Runtime.CompilerServices;

namespace Farabi.Native;

static class ModuleInit
{
    /// <summary>Runs before any code of this assembly, so before Farabi first touches <c>torch</c>.</summary>
    [ModuleInitializer]
    internal static void Init() => GlibcxxCompat.EnsureLoadable();
}

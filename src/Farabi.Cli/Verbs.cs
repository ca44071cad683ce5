using System.CommandLine;

namespace Farabi.Cli;

/// <summary>The verb groups of the <c>farabi</c> tool, one file each.</summary>
static class Verbs
{
    public static IEnumerable<Command> All()
    {
        yield return LmCommands.Create();
        yield return LoraCommands.Create();
    }
}

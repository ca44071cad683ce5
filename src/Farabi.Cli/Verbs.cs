using System.CommandLine;

namespace Farabi.Cli;

/// <summary>The verb groups of the <c>farabi</c> tool, one file each.</summary>
static class Verbs
{
    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return TokenizerCommands.Create();
        yield return DataCommands.Create();
        yield return LmCommands.Create();
        yield return LoraCommands.Create();
        yield return PrmCommands.Create();
        yield return ClipVerbs.Create();
        yield return W2sCommands.Create();
    }
}

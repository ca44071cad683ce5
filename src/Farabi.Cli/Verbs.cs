using System.CommandLine;

namespace Farabi.Cli;

/// <summary>The verb groups of the <c>farabi</c> tool, one file each.</summary>
static class Verbs
{
    public static IEnumerable<Command> All()
    {
        yield return DataCommands.Create();
        var lm = LmCommands.Create();
        lm.Subcommands.Add(LmTrainCommands.CreateTrain());
        lm.Subcommands.Add(LmTrainCommands.CreateEval());
        yield return lm;
    }
}

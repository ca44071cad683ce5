using System.CommandLine;

namespace Farabi.Cli;

/// <summary>The verb groups of the <c>farabi</c> tool, one file each.</summary>
static class Verbs
{
    public static IEnumerable<Command> All()
    {
        yield return DataCommands.Create();
        // TEMPORARY (lm-train branch): the lm group is lm-model's LmCommands.Create(); the integrator adds train/eval there.
        yield return new Command("lm", "Language models.") { LmTrainCommands.CreateTrain(), LmTrainCommands.CreateEval() };
    }
}

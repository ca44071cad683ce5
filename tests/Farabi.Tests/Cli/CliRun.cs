using Farabi.Cli;

namespace Farabi.Tests.Cli;

/// <summary>Runs the real <c>farabi</c> command tree in-process and captures what it prints.</summary>
static class CliRun
{
    static CliRun() => Farabi.Native.GlibcxxCompat.EnsureLoadable();

    /// <summary>The exit code, standard output and standard error of <c>farabi ARGS</c>.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new System.CommandLine.RootCommand("farabi (test)");
        foreach (var group in Verbs.All()) root.Subcommands.Add(group);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CliApp.Run(root, args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}

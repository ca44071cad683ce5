using System.CommandLine;
using Farabi.Cli;

var root = new RootCommand("Farabi: modern language and vision model techniques, end to end, in .NET.");
foreach (var group in Verbs.All()) root.Subcommands.Add(group);
return CliApp.Run(root, args);

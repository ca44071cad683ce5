using System.CommandLine;

namespace Farabi.Cli;

/// <summary>
/// Runs the command tree with Farabi's error contract: a user mistake (bad flag, missing or malformed
/// file, impossible setting) prints one line "farabi: ..." on stderr and exits with code 2; never a
/// stack trace for a user mistake.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code for bad input.</summary>
    public const int UsageError = 2;

    public static int Run(RootCommand root, string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            stderr.WriteLine($"farabi: {parse.Errors[0].Message}");
            return UsageError;
        }
        try
        {
            var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr };
            return parse.Invoke(config);
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"farabi: {OneLine(e.Message)}");
            return UsageError;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("farabi: cancelled.");
            return 130;
        }
    }

    /// <summary>
    /// Exceptions that report bad input: the libraries throw these with a sentence that names the
    /// file, line or key. Anything else is a bug and keeps its stack trace.
    /// </summary>
    public static bool IsUserError(Exception e) => e is UserError or FormatException or InvalidDataException
        or FileNotFoundException or DirectoryNotFoundException or ArgumentException or UnauthorizedAccessException
        or KeyNotFoundException or NotSupportedException;

    static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}

/// <summary>A mistake in what the user asked for, reported as one sentence and exit code 2.</summary>
public sealed class UserError(string message) : Exception(message);

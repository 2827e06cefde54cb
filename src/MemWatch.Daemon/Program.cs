using System.CommandLine;
using MemWatch.Daemon.Cli;
using MemWatch.Probes;

namespace MemWatch.Daemon;

internal static class Program
{
    public static int Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        RootCommand root = CommandLine.Build(Console.Out, cancel.Token);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"memwatch: {parsed.Errors[0].Message} (see memwatch --help)");
            return ExitCodes.BadUsage;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"memwatch: {e.Message}");
            return e.ExitCode;
        }
        catch (ProcParseException e)
        {
            Console.Error.WriteLine($"memwatch: malformed kernel file {e.Message}");
            return ExitCodes.Failure;
        }
    }
}

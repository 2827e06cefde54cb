using System.CommandLine;
using System.Globalization;

namespace MemWatch.Daemon.Cli;

/// <summary>The memwatch command tree (System.CommandLine); each action delegates to a command class.</summary>
internal static class CommandLine
{
    private const string ExitCodesHelp =
        "Exit codes: 0 ok, 1 internal error, 2 bad usage, 3 no such process, 4 permission denied.";

    public static RootCommand Build(TextWriter stdout, CancellationToken cancel)
    {
        var root = new RootCommand(
            "memwatch: where a Linux process's memory is, whether it grows, and why (leak or allocator retention). " + ExitCodesHelp);
        root.Add(Inspect(stdout, cancel));
        root.Add(Run());
        return root;
    }

    /// <summary>A PID argument that rejects anything but a positive integer with a usage error (exit 2).</summary>
    private static Argument<int> PidArgument(string description) => new("pid")
    {
        Description = description,
        CustomParser = r =>
        {
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0)
            {
                return value;
            }

            r.AddError($"pid must be a positive integer, not '{(r.Tokens.Count > 0 ? r.Tokens[0].Value : "")}'");
            return 0;
        },
    };

    private static Command Run()
    {
        var config = new Option<string?>("--config")
        {
            Description = "JSON configuration file (see README). Without it: every process with RSS >= 50 MiB, passive, on 127.0.0.1:9487. MEMWATCH_* environment variables (__ nests) override the file.",
            HelpName = "FILE",
        };
        var listen = new Option<string?>("--listen")
        {
            Description = "Address and port of the HTTP listener (/metrics, /api, /healthz, /readyz), overriding the configuration. Default 127.0.0.1:9487.",
            HelpName = "ADDR:PORT",
        };
        var command = new Command("run", "Run the daemon: sample processes, serve Prometheus metrics and the HTTP API, apply trim policies; stops on SIGTERM. Exit codes: 0 stopped cleanly, 1 internal error or the listener could not bind, 2 bad usage or configuration.")
        {
            config,
            listen,
        };
        command.SetAction(r => RunCommand.Run(r.GetValue(config), r.GetValue(listen), Console.Error));
        return command;
    }

    private static Command Inspect(TextWriter stdout, CancellationToken cancel)
    {
        Argument<int> pid = PidArgument("The process to inspect.");
        var json = new Option<bool>("--json") { Description = "Write the report as JSON (stable camelCase fields)." };
        var watch = new Option<double?>("--watch")
        {
            Description = "Sample for SECONDS and add RSS growth and page-fault rates over that window.",
            HelpName = "SECONDS",
        };
        watch.CustomParser = r =>
        {
            if (r.Tokens.Count == 1
                && double.TryParse(r.Tokens[0].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s)
                && s > 0 && s <= 86400)
            {
                return s;
            }

            r.AddError("--watch takes a number of seconds, more than 0 and at most 86400");
            return null;
        };

        var command = new Command("inspect", "Show a process's memory: totals, regions (heap, arenas, mmapped chunks, stacks, files, shared memory), allocator, cgroup. " + ExitCodesHelp)
        {
            pid,
            json,
            watch,
        };
        command.SetAction(r => InspectCommand.Run(r.GetValue(pid), r.GetValue(json), r.GetValue(watch), stdout, cancel));
        return command;
    }
}

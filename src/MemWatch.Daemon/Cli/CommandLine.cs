using System.CommandLine;
using System.Globalization;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Daemon.Cli;

/// <summary>The memwatch command tree (System.CommandLine); each action delegates to a command class.</summary>
internal static class CommandLine
{
    private const string ExitCodesHelp =
        "Exit codes: 0 ok, 1 internal error, 2 bad usage, 3 no such process, 4 permission denied, 6 not a .NET process (gc).";

    private const string RootExitCodesHelp =
        "Exit codes: 0 ok, 1 internal error, 2 bad usage, 3 no such process, 4 permission denied (incl. ptrace refused), "
        + "5 refused as unsafe (trim: already traced, busy, no safe point, timeout), 6 not supported (trim: an allocator MemWatch cannot ask; gc: not a .NET process).";

    private const string TrimExitCodesHelp =
        "Exit codes: 0 released, nothing releasable, or requested; 1 internal error or the allocator reported an error; 2 bad usage; "
        + "3 no such process; 4 permission denied (ptrace refused); 5 refused as unsafe (already traced, busy, no safe point, timeout); "
        + "6 allocator not supported (the message says why).";

    public static RootCommand Build(TextWriter stdout, CancellationToken cancel)
    {
        var root = new RootCommand(
            "memwatch: where a Linux process's memory is, whether it grows, and why (leak or allocator retention). " + RootExitCodesHelp);
        // The commands act on processes of the machine they run on: its /proc, for every command, from here.
        ProcFileSystem fs = ProcFileSystem.Default;
        root.Add(Inspect(fs, stdout, cancel));
        root.Add(Trim(fs, stdout));
        root.Add(Gc(fs, stdout));
        root.Add(History(fs, stdout));
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

    private static Command Trim(ProcFileSystem fs, TextWriter stdout)
    {
        Argument<int> pid = PidArgument("The process whose allocator should give free memory back.");
        var json = new Option<bool>("--json") { Description = "Write the report as JSON (stable camelCase fields)." };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Longest time one remote call may run in the target before it is abandoned and the thread restored.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 10,
        };
        timeout.CustomParser = r =>
        {
            if (r.Tokens.Count == 1
                && double.TryParse(r.Tokens[0].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s)
                && s > 0 && s <= 600)
            {
                return s;
            }

            r.AddError("--timeout takes a number of seconds, more than 0 and at most 600");
            return 0;
        };

        var command = new Command("trim", "Make a process's allocator return free memory to the system, in the live process through ptrace "
            + "(glibc malloc_trim(0), jemalloc purge, gperftools tcmalloc ReleaseFreeMemory): statistics before and after, RSS before "
            + "and after, and the pause each remote call cost the one thread used; other threads keep running. " + TrimExitCodesHelp)
        {
            pid,
            json,
            timeout,
        };
        command.SetAction(r => TrimCommand.Run(fs, r.GetValue(pid), r.GetValue(json), r.GetValue(timeout), stdout));
        return command;
    }

    private static Command Gc(ProcFileSystem fs, TextWriter stdout)
    {
        Argument<int> pid = PidArgument("The .NET process to collect.");
        var json = new Option<bool>("--json") { Description = "Write the result as JSON (stable camelCase fields)." };
        var command = new Command(
            "gc",
            "Induce one full blocking GC in a .NET process through its diagnostic socket (as dotnet-gcdump does, without the dump) and show the GC heap before and after. " + ExitCodesHelp)
        {
            pid,
            json,
        };
        command.SetAction(r => GcCommand.Run(fs, r.GetValue(pid), r.GetValue(json), stdout));
        return command;
    }

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
        var procRoot = new Option<string?>("--proc-root")
        {
            Description = "The proc filesystem to watch (Sampling.ProcRoot; default /proc): /host/proc from a container, or a fixture tree.",
            HelpName = "DIR",
        };
        var sysRoot = new Option<string?>("--sys-root")
        {
            Description = "Where sysfs is read (Sampling.SysRoot; default /sys): cgroup mounts under /sys in mountinfo are read beneath it.",
            HelpName = "DIR",
        };
        var checkConfig = new Option<bool>("--check-config")
        {
            Description = "Validate the configuration (file, MEMWATCH_* variables, --listen), print it as the daemon would run it with secrets masked, and exit: 0 valid, 2 invalid (one 'memwatch: config:' line per problem).",
        };
        var command = new Command("run", "Run the daemon: sample processes, serve Prometheus metrics and the HTTP API, apply trim policies; stops on SIGTERM. Keeps history in StateDirectory/history.db (see memwatch history). Exit codes: 0 stopped cleanly, 1 internal error, the listener could not bind, or another daemon holds the state directory, 2 bad usage or configuration.")
        {
            config,
            listen,
            procRoot,
            sysRoot,
            checkConfig,
        };
        command.SetAction(r => RunCommand.Run(r.GetValue(config), r.GetValue(listen), Console.Error, r.GetValue(checkConfig) ? Console.Out : null,
            r.GetValue(procRoot), r.GetValue(sysRoot)));
        return command;
    }

    private static Command Inspect(ProcFileSystem fs, TextWriter stdout, CancellationToken cancel)
    {
        Argument<int> pid = PidArgument("The process to inspect.");
        var json = new Option<bool>("--json") { Description = "Write the report as JSON (stable camelCase fields)." };
        var watch = new Option<double?>("--watch")
        {
            Description = "Sample for SECONDS and add RSS growth, page-fault rates, a verdict (leak, allocator retention and its mechanism, ...) with evidence and advice, and a forecast to the memory limit.",
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

        var introspect = new Option<bool>("--introspect")
        {
            Description = "Also ask the allocator itself, through ptrace remote calls into the process (glibc mallinfo2 and malloc_info, "
                + "jemalloc mallctl, gperftools tcmalloc MallocExtension): bytes in use, free, releasable by a trim, per arena. One thread "
                + "pauses for the calls (reported in microseconds); other threads keep running. Without this option nothing is injected. "
                + "For a Node process, also asks V8 for its heap (used, committed, limit, spaces) on the main thread while its event loop is idle. "
                + "Implies --dotnet. A refused injection is reported in the output (allocator.introspectionError, runtime.problem), not as a failure.",
        };
        var attribute = new Option<bool>("--attribute")
        {
            Description = "With --watch: attribute the window's memory growth to call stacks. perf events sample the process's page faults and its "
                + "brk/mmap/munmap/mremap/madvise calls with a copy of the user stack, unwound with .eh_frame CFI and named from the ELF symbol "
                + "tables (debug files by build-id; JIT frames from /tmp/perf-PID.map when DOTNET_PerfMapEnabled=1). No ptrace, the target's memory "
                + "is not read. Prints the top growth sites with bytes and share, or \"no growth to attribute\" when faults were given back. "
                + "Needs CAP_PERFMON or root (docs/attribution.md).",
        };
        var flamegraph = new Option<string?>("--flamegraph")
        {
            Description = "With --attribute: write a self-contained SVG flame graph of the growth to FILE.",
            HelpName = "FILE",
        };
        var folded = new Option<string?>("--folded")
        {
            Description = "With --attribute: write the folded stacks (root;...;leaf BYTES, one per line: flamegraph.pl, speedscope, inferno) to FILE.",
            HelpName = "FILE",
        };
        var dotnet = new Option<bool>("--dotnet")
        {
            Description = "For a .NET process, also read the runtime's GC figures over its diagnostic socket (an EventPipe session of "
                + "about a second). --introspect implies it. Without either, inspect connects to nothing and only reads /proc.",
        };
        var command = new Command("inspect", "Show a process's memory: totals, regions (heap, arenas, mmapped chunks, stacks, files, shared memory), allocator, cgroup; GC heap figures for .NET processes with --dotnet. " + ExitCodesHelp)
        {
            pid,
            json,
            watch,
            introspect,
            attribute,
            flamegraph,
            folded,
            dotnet,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(attribute) && r.GetValue(watch) is null)
            {
                r.AddError("--attribute needs --watch SECONDS (the capture lasts the window)");
            }

            if (!r.GetValue(attribute) && (r.GetValue(flamegraph) is not null || r.GetValue(folded) is not null))
            {
                r.AddError("--flamegraph and --folded need --attribute");
            }
        });
        command.SetAction(r => InspectCommand.Run(fs, r.GetValue(pid), r.GetValue(json), r.GetValue(watch), stdout, cancel, r.GetValue(introspect),
            r.GetValue(attribute) ? new AttributionRequest(r.GetValue(flamegraph), r.GetValue(folded)) : null, r.GetValue(dotnet)));
        return command;
    }

    private static Command History(ProcFileSystem fs, TextWriter stdout)
    {
        Argument<int> pid = PidArgument("The process whose history to show (its latest incarnation, if the PID was reused).");
        var since = new Option<TimeSpan>("--since")
        {
            Description = "Show samples from this long ago: 90s, 15m, 2h, 7d or hh:mm:ss (default 1h). Verdict changes and audit entries: the last 50 each.",
            HelpName = "DURATION",
            DefaultValueFactory = _ => TimeSpan.FromHours(1),
            CustomParser = r =>
            {
                if (r.Tokens.Count == 1 && DurationParser.TryParse(r.Tokens[0].Value, out TimeSpan d))
                {
                    return d;
                }

                r.AddError($"--since takes a duration such as 90s, 15m, 2h, 7d or 01:30:00, not '{(r.Tokens.Count > 0 ? r.Tokens[0].Value : "")}'");
                return default;
            },
        };
        var json = new Option<bool>("--json") { Description = "Write the history as JSON (stable camelCase fields)." };
        var stateDir = new Option<string?>("--state-dir")
        {
            Description = $"The daemon's state directory holding {MemWatch.Daemon.History.HistoryStore.FileName} (default $STATE_DIRECTORY, else {StateDirectory.Fallback}).",
            HelpName = "DIR",
        };

        var command = new Command(
            "history",
            "Show what the daemon recorded about a process: samples (downsampled with age), verdict changes and remediations (audit). Reads the history database read-only. "
            + "Exit codes: 0 ok, 1 unreadable or corrupt database, 2 bad usage, 3 no history for that PID, 4 permission denied.")
        {
            pid,
            since,
            json,
            stateDir,
        };
        command.SetAction(r => HistoryCommand.Run(fs, r.GetValue(pid), r.GetValue(since), r.GetValue(json), r.GetValue(stateDir), stdout));
        return command;
    }
}

using System.Net.Sockets;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.History;
using MemWatch.Daemon.Hosting;
using MemWatch.Daemon.Logging;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Files;
using MemWatch.Probes.ProcFs;
using Microsoft.AspNetCore.Builder;
using Serilog.Core;

namespace MemWatch.Daemon.Cli;

/// <summary><c>memwatch run [--config FILE] [--listen ADDR:PORT] [--proc-root DIR] [--sys-root DIR]</c>: the daemon, until SIGTERM or SIGINT.</summary>
internal static class RunCommand
{
    /// <param name="checkConfigOutput">--check-config: print the effective configuration here and exit instead of running.</param>
    /// <param name="procRoot">--proc-root: Sampling.ProcRoot, over the file and MEMWATCH_* variables.</param>
    /// <param name="sysRoot">--sys-root: Sampling.SysRoot, likewise.</param>
    public static int Run(
        string? configFile, string? listen, TextWriter stderr, TextWriter? checkConfigOutput = null, string? procRoot = null, string? sysRoot = null)
    {
        // The daemon's threads allocate little C memory: two arenas instead of up to eight per core (measured: about
        // 5 MiB less RSS watching 300 processes, docs/daemon.md).
        OwnGlibcHeap.TryLimitArenas(2);

        // Two /proc files are held open per watched process (HeldProcessFiles); past the limit they are read by path.
        OpenFileLimit.RaiseToHardLimit();

        DaemonSettings settings;
        try
        {
            settings = DaemonConfigurationLoader.Load(configFile, listen, WithRoots(procRoot, sysRoot));
        }
        catch (ConfigurationException e)
        {
            foreach (string error in e.Errors)
            {
                stderr.WriteLine($"memwatch: config: {error}");
            }

            return ExitCodes.BadUsage;
        }

        if (checkConfigOutput is not null)
        {
            foreach (string warning in settings.Warnings)
            {
                stderr.WriteLine($"memwatch: config: warning: {warning}");
            }

            checkConfigOutput.WriteLine(EffectiveConfiguration.Render(settings));
            return ExitCodes.Ok;
        }

        // History, its journals and the log file hold command names and client addresses: the daemon's own (0600,
        // directories 0700) whatever umask it was started with.
        FileCreationMask.Set(0x3F); // 0077
        using Logger root = DaemonLogging.CreateLogger(settings.Logging);
        Serilog.ILogger logger = root.ForContext("SourceContext", "MemWatch.Daemon");
        foreach (string warning in settings.Warnings)
        {
            logger.Warning("config: {Warning}", warning);
        }

        try
        {
            Directory.CreateDirectory(settings.StateDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.Warning("state directory {StateDirectory} cannot be created: {Reason}", settings.StateDirectory, e.Message);
        }

        if (!OperatingSystem.IsWindows())
        {
            TightenStateFiles(settings, logger);
        }

        HistoryStore? history;
        try
        {
            history = HistoryStore.OpenOrStartFresh(settings.StateDirectory, new HistoryOptions(), out string? movedAsideTo);
            if (movedAsideTo is not null)
            {
                logger.Warning("history database was corrupt; moved aside to {Path}, starting a fresh one", movedAsideTo);
            }
        }
        catch (HistoryStoreException e) when (e.Failure is HistoryFailure.Locked or HistoryFailure.NewerSchema)
        {
            // Another daemon on the same state directory (or a newer memwatch's database): running beside it would
            // sample everything twice and could not keep history, so do not start.
            stderr.WriteLine(e.Failure == HistoryFailure.Locked
                ? $"memwatch: another memwatch daemon is running with state directory {settings.StateDirectory} (it holds {HistoryStore.LockFileName})"
                : $"memwatch: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (HistoryStoreException e)
        {
            logger.Error("history is unavailable, running without it: {Reason}", e.Message);
            history = null;
        }

        WebApplication app = DaemonHost.Build(settings, root, history is null ? null : services => HistoryWiring.AddHistory(services, history));
        try
        {
            logger.Information("memwatch starting: {Rules} target rules, interval {Interval}, listening on {Listen}",
                settings.Rules.Count, settings.Sampling.Interval, settings.Listen);
            app.Run();
            logger.Information("memwatch stopped");
            return ExitCodes.Ok;
        }
        catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            stderr.WriteLine($"memwatch: cannot listen on {settings.Listen}: {e.InnerException?.Message ?? e.Message}");
            return ExitCodes.Failure;
        }
        finally
        {
            ((IDisposable)app).Dispose();

            // Normally closed by HistoryWriterService on shutdown; this covers a start that failed before it ran.
            history?.Dispose();
        }
    }

    /// <summary>Files an older memwatch (or another umask) left readable by others: made the daemon's own.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void TightenStateFiles(DaemonSettings settings, Serilog.ILogger logger)
    {
        var files = new List<string>();
        try
        {
            files.AddRange(Directory.EnumerateFiles(settings.StateDirectory, "history.db*"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No state directory yet, or not ours: the history store reports it.
        }

        if (settings.Logging.File is { Length: > 0 } log && File.Exists(log))
        {
            files.Add(log);
        }

        foreach (string file in files)
        {
            try
            {
                UnixFileMode mode = File.GetUnixFileMode(file);
                if ((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0)
                {
                    File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    logger.Warning("{File} was mode {Mode}; made 0600 (it holds command names and client addresses)", file, Convert.ToString((int)mode, 8));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.Warning("cannot restrict {File}: {Reason}", file, e.Message);
            }
        }
    }

    /// <summary>The process's environment with --proc-root and --sys-root as MEMWATCH_* variables (bound and checked as
    /// the others are, and winning over them); null when neither is given.</summary>
    private static Dictionary<string, string?>? WithRoots(string? procRoot, string? sysRoot)
    {
        if (procRoot is null && sysRoot is null)
        {
            return null;
        }

        var environment = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            environment[(string)e.Key] = (string?)e.Value;
        }

        if (procRoot is not null)
        {
            environment["MEMWATCH_Sampling__ProcRoot"] = procRoot;
        }

        if (sysRoot is not null)
        {
            environment["MEMWATCH_Sampling__SysRoot"] = sysRoot;
        }

        return environment;
    }
}

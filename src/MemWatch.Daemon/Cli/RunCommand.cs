using System.Net.Sockets;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Hosting;
using MemWatch.Daemon.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Serilog.Core;

namespace MemWatch.Daemon.Cli;

/// <summary><c>memwatch run [--config FILE] [--listen ADDR:PORT]</c>: the daemon, until SIGTERM or SIGINT.</summary>
internal static class RunCommand
{
    public static int Run(string? configFile, string? listen, TextWriter stderr)
    {
        DaemonSettings settings;
        try
        {
            settings = DaemonConfigurationLoader.Load(configFile, listen);
        }
        catch (ConfigurationException e)
        {
            foreach (string error in e.Errors)
            {
                stderr.WriteLine($"memwatch: config: {error}");
            }

            return ExitCodes.BadUsage;
        }

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

        WebApplication app = DaemonHost.Build(settings, root);
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
        }
    }
}

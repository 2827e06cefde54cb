using MemWatch.Daemon.Configuration;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;
using Serilog.Sinks.SystemConsole.Themes;

namespace MemWatch.Daemon.Logging;

/// <summary>
/// Serilog for the daemon, wired into the host by Serilog.Extensions.Hosting (<c>AddSerilog</c> in DaemonHost). Text or
/// compact JSON on stdout, colours only on a terminal
/// (journald gets plain lines, each with its syslog priority prefix), and optionally the same to a file. Text
/// timestamps are UTC.
/// </summary>
internal static class DaemonLogging
{
    // EventTag: the event id in brackets after the source, "INF MemWatch.Daemon.Sampling.Sampler[2001]: watching ...".
    private const string TextTemplate = "{UtcTimestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Level:u3} {SourceContext}{EventTag}: {Message:lj}{NewLine}{Exception}";

    /// <param name="options">Format, level and file.</param>
    /// <param name="journalStream"><c>JOURNAL_STREAM</c> (tests pass their own); null for the process's.</param>
    public static Logger CreateLogger(LoggingOptions options, string? journalStream = null)
    {
        bool journal = JournalStream.IsStandardOutput(journalStream ?? Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
        LogEventLevel level = Enum.Parse<LogEventLevel>(options.Level, ignoreCase: true);
        LoggerConfiguration config = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .Enrich.FromLogContext()
            .Enrich.With(new UtcTimestampEnricher());

        bool json = options.Format == "json";
        if (!json)
        {
            config = config.Enrich.With(new EventIdTagEnricher());
        }

        if (journal)
        {
            ITextFormatter inner = json
                ? new CompactJsonFormatter()
                : new MessageTemplateTextFormatter(TextTemplate, System.Globalization.CultureInfo.InvariantCulture);
            config = config.WriteTo.Console(new JournalPriorityFormatter(inner));
        }
        else if (json)
        {
            config = config.WriteTo.Console(new CompactJsonFormatter());
        }
        else
        {
            // The console sink drops the theme when output is redirected, so journald and pipes get no escape codes.
            config = config.WriteTo.Console(
                outputTemplate: TextTemplate,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                theme: Console.IsOutputRedirected ? ConsoleTheme.None : AnsiConsoleTheme.Code);
        }

        if (options.File is { Length: > 0 } file)
        {
            config = json
                ? config.WriteTo.File(new CompactJsonFormatter(), file)
                : config.WriteTo.File(file, outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }

        return config.CreateLogger();
    }
}

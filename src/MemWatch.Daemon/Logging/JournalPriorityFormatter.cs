using Serilog.Events;
using Serilog.Formatting;

namespace MemWatch.Daemon.Logging;

/// <summary>
/// Puts the syslog priority journald reads from the start of a line (<c>&lt;4&gt;</c> for a warning, sd-daemon(3)) before
/// what the inner formatter writes, so that <c>journalctl -p warning</c> separates levels. journald strips the prefix.
/// </summary>
internal sealed class JournalPriorityFormatter : ITextFormatter
{
    private readonly ITextFormatter _inner;

    public JournalPriorityFormatter(ITextFormatter inner)
    {
        _inner = inner;
    }

    public static string Prefix(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => "<2>",
        LogEventLevel.Error => "<3>",
        LogEventLevel.Warning => "<4>",
        LogEventLevel.Information => "<6>",
        _ => "<7>",
    };

    public void Format(LogEvent logEvent, TextWriter output)
    {
        output.Write(Prefix(logEvent.Level));
        _inner.Format(logEvent, output);
    }
}

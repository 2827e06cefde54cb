using Serilog.Core;
using Serilog.Events;

namespace MemWatch.Daemon.Logging;

/// <summary>Adds <c>UtcTimestamp</c>: the text template prints it with a <c>Z</c>, which {Timestamp} (local time) may not carry.</summary>
internal sealed class UtcTimestampEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory) =>
        logEvent.AddPropertyIfAbsent(new LogEventProperty("UtcTimestamp", new ScalarValue(logEvent.Timestamp.UtcDateTime)));
}

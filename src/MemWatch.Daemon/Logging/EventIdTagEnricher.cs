using System.Globalization;
using Serilog.Core;
using Serilog.Events;

namespace MemWatch.Daemon.Logging;

/// <summary>
/// Adds <c>EventTag</c>, <c>[2001]</c>, from the <c>EventId</c> that Serilog.Extensions.Logging attaches (a structure
/// of <c>Id</c> and <c>Name</c>): the text template prints it after the source, as Microsoft's console logger does;
/// an event without an id gets none and prints nothing there. JSON carries <c>EventId</c> itself.
/// </summary>
internal sealed class EventIdTagEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (logEvent.Properties.TryGetValue("EventId", out LogEventPropertyValue? value) && value is StructureValue structure)
        {
            foreach (LogEventProperty property in structure.Properties)
            {
                if (property is { Name: "Id", Value: ScalarValue { Value: int id } } && id != 0)
                {
                    logEvent.AddPropertyIfAbsent(new LogEventProperty("EventTag", new ScalarValue("[" + id.ToString(CultureInfo.InvariantCulture) + "]")));
                    return;
                }
            }
        }
    }
}

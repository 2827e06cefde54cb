using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Reports;

/// <summary>Source-generated JSON for every report the CLI and the HTTP API write (camelCase, indented, nulls kept).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(InspectReport))]
[JsonSerializable(typeof(IReadOnlyList<InspectReport>))]
[JsonSerializable(typeof(TrimReport))]
[JsonSerializable(typeof(GcReport))]
[JsonSerializable(typeof(HistoryReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext
{
}

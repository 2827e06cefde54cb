using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Http;

/// <summary>Source-generated JSON for the HTTP API (camelCase, compact, nulls kept).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(List<TargetSummary>))]
[JsonSerializable(typeof(TargetDetail))]
[JsonSerializable(typeof(TrimResponse))]
[JsonSerializable(typeof(GcResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(MemWatch.Daemon.Attribution.AttributionRecord))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
}

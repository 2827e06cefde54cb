namespace MemWatch.Daemon.Http;

/// <summary>GET /healthz and /readyz.</summary>
internal sealed record HealthResponse(string Status, int Targets, DateTimeOffset? LastSampleAt, string? Detail);

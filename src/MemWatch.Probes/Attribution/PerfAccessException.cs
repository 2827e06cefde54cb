namespace MemWatch.Probes.Attribution;

/// <summary>perf_event_open was refused; the message says which privilege or setting is missing.</summary>
public sealed class PerfAccessException(string message) : Exception(message);

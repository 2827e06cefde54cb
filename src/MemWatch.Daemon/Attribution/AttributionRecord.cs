using MemWatch.Daemon.Reports;

namespace MemWatch.Daemon.Attribution;

/// <summary>The latest attribution of one target: when, why (<c>api:CLIENT</c> or <c>verdict:KIND</c>) and what it found.</summary>
internal sealed record AttributionRecord(int Pid, string Comm, string Trigger, DateTimeOffset At, AttributionReport Attribution);

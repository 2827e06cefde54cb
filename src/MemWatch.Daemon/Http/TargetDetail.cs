using MemWatch.Daemon.Reports;

namespace MemWatch.Daemon.Http;

/// <summary>GET /api/targets/{pid}: the daemon's summary and a fresh inspect report (the same document as <c>memwatch inspect --json</c>).</summary>
internal sealed record TargetDetail(TargetSummary Target, InspectReport Report);

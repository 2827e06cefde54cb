namespace MemWatch.Daemon.Reports;

/// <summary>A memory limit the process declares for itself: how much, as written, and whether it bounds a heap or a cache.</summary>
internal sealed record DeclaredLimitReport(ulong Bytes, string Source, string Bounds);

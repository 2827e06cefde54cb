namespace MemWatch.Daemon.Reports;

/// <summary>One generation or space of a runtime heap; <paramref name="PhysicalBytes"/> is V8's resident part of it.</summary>
internal sealed record RuntimeSpaceReport(string Name, ulong UsedBytes, ulong CommittedBytes, ulong? MaxBytes, ulong? PhysicalBytes = null);

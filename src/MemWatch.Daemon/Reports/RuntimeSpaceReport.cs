namespace MemWatch.Daemon.Reports;

/// <summary>One generation or space of a runtime heap.</summary>
internal sealed record RuntimeSpaceReport(string Name, ulong UsedBytes, ulong CommittedBytes, ulong? MaxBytes);

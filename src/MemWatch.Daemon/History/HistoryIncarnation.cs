namespace MemWatch.Daemon.History;

/// <summary>A process incarnation the history knows: pid and starttime, its latest comm, when it was first and last recorded.</summary>
internal sealed record HistoryIncarnation(int Pid, ulong StartTimeTicks, string Comm, DateTimeOffset FirstSeen, DateTimeOffset? LastSample);

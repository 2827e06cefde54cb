namespace MemWatch.Daemon.Http;

/// <summary>POST /api/targets/{pid}/gc: what the induced full GC did (heap figures from the runtime's own counters).</summary>
internal sealed record GcResponse(
    int Pid,
    string Comm,
    string Result,
    string Outcome,
    string Message,
    ulong? HeapBeforeBytes,
    ulong? HeapAfterBytes,
    ulong? ReclaimedBytes,
    ulong? CommittedBeforeBytes,
    ulong? CommittedAfterBytes,
    ulong? RssBeforeBytes,
    ulong? RssAfterBytes,
    bool GcObserved,
    double? PauseMilliseconds,
    double? DurationMilliseconds,
    DateTimeOffset At);

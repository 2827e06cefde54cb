namespace MemWatch.Daemon.Http;

/// <summary>POST /api/targets/{pid}/trim: what the trim did.</summary>
internal sealed record TrimResponse(
    int Pid,
    string Comm,
    string Result,
    string Outcome,
    string Message,
    ulong? RssBeforeBytes,
    ulong? RssAfterBytes,
    long? RssReleasedBytes,
    long PauseMicroseconds,
    DateTimeOffset At);

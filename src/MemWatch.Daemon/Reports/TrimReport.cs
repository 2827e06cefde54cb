namespace MemWatch.Daemon.Reports;

/// <summary>
/// What <c>memwatch trim PID</c> reports, and <c>POST /api/targets/{pid}/trim</c> later: a stable camelCase JSON shape.
/// Fields are only ever added; a reading that could not be taken is null, never a made-up zero.
/// </summary>
internal sealed record TrimReport
{
    public required int Pid { get; init; }

    /// <summary>The process name (comm).</summary>
    public required string Command { get; init; }

    /// <summary>glibc, jemalloc or tcmalloc.</summary>
    public required string Allocator { get; init; }

    /// <summary>released, nothing-released, requested (the allocator does not say how much: judge by RSS) or failed.</summary>
    public required string Result { get; init; }

    /// <summary>What the allocator said, in words (e.g. why nothing could be released).</summary>
    public required string Message { get; init; }

    /// <summary>The release function's return value, where it has one.</summary>
    public ulong? ReturnValue { get; init; }

    /// <summary>VmRSS just before the release call.</summary>
    public ulong? RssBeforeBytes { get; init; }

    /// <summary>VmRSS just after the release call returned.</summary>
    public ulong? RssAfterBytes { get; init; }

    /// <summary>RssBefore - RssAfter: negative when the process grew meanwhile.</summary>
    public long? ReleasedBytes { get; init; }

    /// <summary>What the allocator (or the glibc trim model) expected to be releasable before the call.</summary>
    public ulong? PredictedReleasableBytes { get; init; }

    /// <summary>How long the thread that ran the release was kept from its own work.</summary>
    public required long PauseMicroseconds { get; init; }

    /// <summary>How long the release function itself ran in the target.</summary>
    public required long CalleeMicroseconds { get; init; }

    /// <summary>The target thread used for the calls.</summary>
    public int Tid { get; init; }

    public AllocatorFigures? Before { get; init; }

    /// <summary>Null when the statistics could not be read after the release (see <see cref="Warnings"/>).</summary>
    public AllocatorFigures? After { get; init; }

    /// <summary>Every step with the pause it caused.</summary>
    public required IReadOnlyList<RemoteCallStep> Steps { get; init; }

    /// <summary>What the allocator's figures mean (from the introspector).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];
}

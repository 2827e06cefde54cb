namespace MemWatch.Daemon.Reports;

/// <summary>
/// One step of a trim (statistics before, release, statistics after) and what it cost the target thread: a step may
/// be several remote calls (glibc statistics are mallinfo2 plus malloc_info through a memory stream).
/// </summary>
internal sealed record RemoteCallStep
{
    /// <summary>"statistics-before", "release" or "statistics-after".</summary>
    public required string Step { get; init; }

    public required int Calls { get; init; }

    /// <summary>The longest time the thread was kept from its own work by one call of this step.</summary>
    public required long PauseMicroseconds { get; init; }

    public required long PauseMicrosecondsTotal { get; init; }

    /// <summary>How long the callee ran (release only; null where the step does not record it).</summary>
    public long? CalleeMicroseconds { get; init; }
}

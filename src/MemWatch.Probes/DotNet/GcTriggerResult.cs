namespace MemWatch.Probes.DotNet;

/// <summary>What an induced full blocking GC did.</summary>
/// <param name="HeapBeforeBytes">GC heap bytes in use just before (<c>gc-heap-size</c>).</param>
/// <param name="HeapAfterBytes">GC heap bytes in use just after.</param>
/// <param name="CommittedBeforeBytes">GC committed bytes before, when the runtime reports them.</param>
/// <param name="CommittedAfterBytes">GC committed bytes after.</param>
/// <param name="GcObserved">True when the runtime's GCStart/GCEnd events for an induced gen2 GC were seen.</param>
/// <param name="PauseDuration">From GCStart to GCEnd of that GC (the runtime's timestamps); null when not observed.</param>
/// <param name="Duration">The whole action, both counter reads included.</param>
public sealed record GcTriggerResult(
    ulong HeapBeforeBytes,
    ulong HeapAfterBytes,
    ulong? CommittedBeforeBytes,
    ulong? CommittedAfterBytes,
    bool GcObserved,
    TimeSpan? PauseDuration,
    TimeSpan Duration)
{
    /// <summary>Heap bytes the GC freed (0 when the heap grew meanwhile).</summary>
    public ulong ReclaimedBytes => HeapBeforeBytes > HeapAfterBytes ? HeapBeforeBytes - HeapAfterBytes : 0;
}

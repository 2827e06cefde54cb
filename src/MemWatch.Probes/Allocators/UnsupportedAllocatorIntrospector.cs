using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Allocators;

/// <summary>A target whose allocator MemWatch cannot ask: every request answers "not supported" with the reason, without a call.</summary>
internal sealed class UnsupportedAllocatorIntrospector(string allocator, string reason) : IAllocatorIntrospector
{
    public string Allocator => allocator;

    public bool IsSupported => false;

    public string? NotSupportedReason => reason;

    public IReadOnlyList<(ulong Start, ulong End)> UnsafeCodeRanges => [];

    public AllocatorStatistics ReadStatistics(IRemoteCallSession session, TimeSpan callTimeout)
        => new(allocator, null, null, null, null, null, [], new Dictionary<string, ulong>(), 0, 0, 0, [reason]);

    public ReleaseResult Release(IRemoteCallSession session, TimeSpan callTimeout)
        => new(allocator, ReleaseOutcome.NotSupported, reason, null, 0, 0);
}

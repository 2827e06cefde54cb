using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// Asks one target's allocator for its statistics and tells it to give free memory back, through remote calls.
/// Obtain one with <see cref="AllocatorIntrospectors.ForTarget"/>; it is bound to that target's resolved symbols.
/// </summary>
public interface IAllocatorIntrospector
{
    /// <summary>"glibc", "jemalloc", "tcmalloc", or the name of an unsupported allocator.</summary>
    string Allocator { get; }

    /// <summary>False when there is no supported allocator; <see cref="NotSupportedReason"/> says why, and no call is made.</summary>
    bool IsSupported { get; }

    string? NotSupportedReason { get; }

    /// <summary>
    /// The allocator's code in the target, [Start, End): a thread whose instruction pointer is inside may hold an
    /// allocator lock or be halfway through a lock-free cache update, so the engine must not start a call there.
    /// </summary>
    IReadOnlyList<(ulong Start, ulong End)> UnsafeCodeRanges { get; }

    /// <summary>Reads the allocator's statistics. Throws <see cref="RemoteCallException"/> when a call fails.</summary>
    AllocatorStatistics ReadStatistics(IRemoteCallSession session, TimeSpan callTimeout);

    /// <summary>Asks the allocator to give free memory back. Throws <see cref="RemoteCallException"/> when the call fails.</summary>
    ReleaseResult Release(IRemoteCallSession session, TimeSpan callTimeout);
}

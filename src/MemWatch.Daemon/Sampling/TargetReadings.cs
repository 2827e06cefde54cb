using MemWatch.Daemon.Analysis;
using MemWatch.Probes.Runtimes;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// The latest readings of one target as one immutable value. Its writers (the sampler, the .NET counter service, the
/// remediator) replace it whole while holding <see cref="TargetState.Sync"/>, so no writer loses another's field;
/// readers such as /metrics take <see cref="TargetState.Readings"/> once, without a lock, and see one consistent set.
/// </summary>
internal sealed record TargetReadings
{
    public static TargetReadings Empty { get; } = new();

    public ProcessCounters Counters { get; init; }

    public ulong? PssBytes { get; init; }

    public CgroupReading? Cgroup { get; init; }

    public LayoutReading? Layout { get; init; }

    public AllocatorReading? Allocator { get; init; }

    public TargetAnalysis? Analysis { get; init; }

    public DotNetReading? DotNet { get; init; }

    /// <summary>The language runtime's heap figures at the last full smaps pass.</summary>
    public RuntimeReading? Runtime { get; init; }

    /// <summary>The memory limit the process declares for itself (-Xmx, GOMEMLIMIT, ...), once resolved.</summary>
    public DeclaredLimit? DeclaredLimit { get; init; }

    /// <summary>Why ptrace work on this process stopped (see <see cref="TargetState.Quarantine"/>); null while none.</summary>
    public string? Quarantine { get; init; }
}

using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Probes.Assessment;

/// <summary>
/// Everything <see cref="ProcessAssessment.Assess"/> looks at for one process. Only <see cref="Window"/> is required;
/// the rest is what the caller had (the CLI reads it once, the daemon keeps it per target).
/// </summary>
public sealed record AssessmentInput
{
    /// <summary>The samples of the window, oldest first.</summary>
    public required SampleWindow Window { get; init; }

    /// <summary>The region model at the end of the window; null when smaps was not read.</summary>
    public MemoryLayout? Layout { get; init; }

    /// <summary>The region model at the start of the window; null when the same as <see cref="Layout"/> or unknown.</summary>
    public MemoryLayout? EarliestLayout { get; init; }

    /// <summary>Threads of the process now and at the start of the window; 0 when unknown.</summary>
    public int Threads { get; init; }

    public int EarliestThreads { get; init; }

    /// <summary>The language runtime recognised in the process, and its heap figures at the end and start of the window.</summary>
    public RuntimeKind Runtime { get; init; }

    public RuntimeHeapFigures? RuntimeHeap { get; init; }

    public RuntimeHeapFigures? EarliestRuntimeHeap { get; init; }

    /// <summary>What the process declared at start (allocator parameters); <see cref="ProcessParameters.None"/> when unknown.</summary>
    public ProcessParameters Parameters { get; init; } = ProcessParameters.None;

    /// <summary>The allocator's figures at the end and the start of the window (introspection); null when passive.</summary>
    public AllocatorStatistics? LatestStatistics { get; init; }

    public AllocatorStatistics? EarliestStatistics { get; init; }

    /// <summary>.NET GC figures at the end and the start of the window.</summary>
    public ManagedHeapFigures? Managed { get; init; }

    public ManagedHeapFigures? EarliestManaged { get; init; }

    /// <summary>What became of the last trim, when one was followed.</summary>
    public TrimEfficacy? LastTrim { get; init; }

    /// <summary>The process's memory cgroup; null when unknown.</summary>
    public ChargedMemory? Cgroup { get; init; }

    /// <summary>/proc/meminfo and /proc/pressure/memory, for a process whose cgroup has no limit.</summary>
    public Meminfo? Host { get; init; }

    public PressureStall? HostPressure { get; init; }
}

using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Snapshots;

namespace MemWatch.Probes.Verdicts;

/// <summary>What the <see cref="Classifier"/> looks at for one process. Only <see cref="Window"/> and <see cref="Growth"/> are required.</summary>
public sealed record ClassifierInput
{
    /// <summary>The samples of the window (oldest first); the classifier reads its RSS levels to find a burst.</summary>
    public required SampleWindow Window { get; init; }

    /// <summary>The analysis of <see cref="Window"/>.</summary>
    public required WindowGrowth Growth { get; init; }

    /// <summary>The region model at the end of the window; null when smaps was not read.</summary>
    public MemoryLayout? Layout { get; init; }

    /// <summary>The region model at the start of the window, to see mmapped chunks turn into heap; optional.</summary>
    public MemoryLayout? EarliestLayout { get; init; }

    /// <summary>Threads of the process now (status Threads); 0 when unknown.</summary>
    public int Threads { get; init; }

    /// <summary>The allocator; defaults to what <see cref="Layout"/> detected.</summary>
    public AllocatorKind? Allocator { get; init; }

    /// <summary>Effective glibc parameters (from the environment) when the allocator is glibc; defaults otherwise.</summary>
    public GlibcMallocParameters? Glibc { get; init; }

    public JemallocParameters? Jemalloc { get; init; }

    public TcmallocParameters? Tcmalloc { get; init; }

    /// <summary>The allocator's own figures at the end of the window (introspection); null when passive.</summary>
    public AllocatorStatistics? LatestStatistics { get; init; }

    /// <summary>The allocator's figures at the start of the window; with <see cref="LatestStatistics"/> they give in-use and free growth.</summary>
    public AllocatorStatistics? EarliestStatistics { get; init; }

    /// <summary>.NET GC figures at the end of the window, for .NET targets.</summary>
    public ManagedHeapFigures? Managed { get; init; }

    /// <summary>.NET GC figures at the start of the window.</summary>
    public ManagedHeapFigures? EarliestManaged { get; init; }

    /// <summary>Threads at the start of the window; 0 when unknown.</summary>
    public int EarliestThreads { get; init; }

    /// <summary>The language runtime recognised in the process.</summary>
    public RuntimeKind Runtime { get; init; }

    /// <summary>The runtime's own heap figures at the end and the start of the window; null when it publishes none.</summary>
    public RuntimeHeapFigures? RuntimeHeap { get; init; }

    public RuntimeHeapFigures? EarliestRuntimeHeap { get; init; }

    /// <summary>The memory limit the process declares (-Xmx, GOMEMLIMIT, memcached -m...); null when none.</summary>
    public DeclaredLimit? DeclaredLimit { get; init; }

    /// <summary>What became of the last release (trim) of this process, when one was followed.</summary>
    public TrimEfficacy? LastTrim { get; init; }

    /// <summary>The allocator: <see cref="Allocator"/>, else the one <see cref="Layout"/> detected, else unknown.</summary>
    public AllocatorKind EffectiveAllocator => Allocator ?? Layout?.Allocator.Kind ?? AllocatorKind.Unknown;

    /// <summary>
    /// This input with the effective parameters of its allocator, resolved from the process's environment (the daemon
    /// reads <c>/proc/PID/environ</c> once per process: it does not change).
    /// </summary>
    public ClassifierInput WithAllocatorParameters(ProcEnviron environment, int onlineCpus)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Func<string, string?> lookup = name => environment.TryGetValue(name, out string? v) ? v : null;
        return EffectiveAllocator switch
        {
            AllocatorKind.Glibc => this with { Glibc = GlibcMallocParameters.FromEnvironment(lookup, onlineCpus) },
            AllocatorKind.Jemalloc => this with { Jemalloc = JemallocParameters.FromEnvironment(lookup, onlineCpus) },
            AllocatorKind.GperftoolsTcmalloc or AllocatorKind.GoogleTcmalloc => this with { Tcmalloc = TcmallocParameters.FromEnvironment(lookup) },
            _ => this,
        };
    }

    /// <summary>The input for a window ending in <paramref name="latest"/> (a full snapshot gives the region model).</summary>
    public static ClassifierInput From(ProcessSnapshot latest, SampleWindow window, WindowGrowth growth) => new()
    {
        Window = window,
        Growth = growth,
        Layout = latest.Layout,
        Threads = latest.Status.Threads,
    };
}

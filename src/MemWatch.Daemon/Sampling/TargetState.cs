using System.Globalization;
using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Metrics;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// One watched process: who it is, its trend window, its latest readings and its schedule. The sampler writes it,
/// HTTP handlers and the remediator read it; every field after construction is read and written under <see cref="Sync"/>,
/// except <see cref="Readings"/>, which is one immutable value replaced whole and read without the lock.
/// </summary>
internal sealed class TargetState
{
    public TargetState(int pid, ulong startTimeTicks, string comm, TargetRule rule, TargetIdentity identity, SampleWindow window)
    {
        Pid = pid;
        StartTimeTicks = startTimeTicks;
        Comm = comm;
        Rule = rule;
        Window = window;
        Rename(identity);
    }

    public int Pid { get; }

    /// <summary>Field 22 of stat; a different value under the same PID is another process.</summary>
    public ulong StartTimeTicks { get; }

    public string Comm { get; }

    /// <summary>The rule that governs what the daemon may do (see <see cref="TargetMatcher"/>).</summary>
    public TargetRule Rule { get; }

    public TargetIdentity Identity { get; private set; } = TargetIdentity.Unknown;

    /// <summary>pid, comm, unit, container_id, pod, namespace, container; encoded once per identity.</summary>
    public LabelSet Labels { get; private set; } = null!;

    /// <summary>
    /// Sets the identity and its labels: at creation, and once more when the pod's name arrives after the process was
    /// first seen (the Kubernetes API is read beside sampling, never waited for). A reader sees the old or the new
    /// labels whole: each is one reference.
    /// </summary>
    public void Rename(TargetIdentity identity)
    {
        Labels = LabelSet.Create(
            ("pid", Pid.ToString(CultureInfo.InvariantCulture)),
            ("comm", Comm),
            ("unit", identity.Unit),
            ("container_id", identity.ContainerId),
            ("pod", identity.Pod),
            ("namespace", identity.Namespace),
            ("container", identity.Container));
        Identity = identity;
    }

    public Lock Sync { get; } = new();

    private TargetReadings _readings = TargetReadings.Empty;
    private MemWatch.Probes.Assessment.ProcessParameters? _parameters;

    /// <summary>The latest readings, whole; read without <see cref="Sync"/>. The setters below replace it, under <see cref="Sync"/>.</summary>
    public TargetReadings Readings => Volatile.Read(ref _readings);

    private void Publish(TargetReadings readings) => Volatile.Write(ref _readings, readings);

    /// <summary>Owned by the sampler thread; others read it under <see cref="Sync"/>.</summary>
    public SampleWindow Window { get; }

    /// <summary>Held during any ptrace work on this target (introspection, trims): one action at a time.</summary>
    public SemaphoreSlim ActionGate { get; } = new(1, 1);

    public ProcessCounters Counters { get => _readings.Counters; set => Publish(_readings with { Counters = value }); }

    public ulong? PssBytes { get => _readings.PssBytes; set => Publish(_readings with { PssBytes = value }); }

    public CgroupReading? Cgroup { get => _readings.Cgroup; set => Publish(_readings with { Cgroup = value }); }

    /// <summary>Set once the sampler has warned that this target's memory cgroup is not visible.</summary>
    public bool CgroupUnresolvedLogged { get; set; }

    public LayoutReading? Layout { get => _readings.Layout; set => Publish(_readings with { Layout = value }); }

    public AllocatorReading? Allocator { get => _readings.Allocator; set => Publish(_readings with { Allocator = value }); }

    public TargetAnalysis? Analysis { get => _readings.Analysis; set => Publish(_readings with { Analysis = value }); }

    /// <summary>GC heap figures of a .NET target (see <see cref="DotNetCounterService"/>); null for other processes,
    /// rules without Introspect, and until the first read.</summary>
    public DotNetReading? DotNet { get => _readings.DotNet; set => Publish(_readings with { DotNet = value }); }

    /// <summary>The diagnostic socket, once found; cached here because a state is one (pid, start time).</summary>
    public MemWatch.Probes.DotNet.DiagnosticEndpoint? DotNetEndpoint { get; set; }

    // What the assessment needs beyond the readings above (see TargetAnalyzer).

    /// <summary>The region model at the last full smaps read (totals per region kind: small).</summary>
    public MemoryLayout? LayoutModel { get; set; }

    /// <summary>The region model at the start of the window (the oldest full smaps read still inside it).</summary>
    public MemoryLayout? EarliestLayoutModel { get; set; }

    /// <summary>Threads when <see cref="LayoutModel"/> and <see cref="EarliestLayoutModel"/> were read.</summary>
    public int LayoutThreads { get; private set; }

    public int EarliestLayoutThreads { get; private set; }

    /// <summary>The language runtime, recognised at the first full smaps pass (null until then); the sampler's alone.</summary>
    public RuntimeKind? Runtime { get; set; }

    /// <summary>The modules of a CPython or Go target, kept to find its heap statistics at each smaps pass.</summary>
    public MemWatch.Probes.Symbols.TargetSymbols? RuntimeSymbols { get; set; }

    /// <summary>The runtime's heap figures at the last smaps pass, and at the oldest still inside the window.</summary>
    public RuntimeSample? RuntimeHeap { get; private set; }

    public RuntimeSample? EarliestRuntimeHeap { get; private set; }

    /// <summary>Keeps a runtime reading, and the oldest one inside the window. Call with <see cref="Sync"/> held.</summary>
    public void RememberRuntime(RuntimeSample sample)
    {
        if (EarliestRuntimeHeap is null || sample.UnixMilliseconds - EarliestRuntimeHeap.UnixMilliseconds > Window.MaxAge.TotalMilliseconds)
        {
            bool previousInWindow = RuntimeHeap is { } previous && sample.UnixMilliseconds - previous.UnixMilliseconds <= Window.MaxAge.TotalMilliseconds;
            EarliestRuntimeHeap = previousInWindow ? RuntimeHeap : sample;
        }

        RuntimeHeap = sample;
        Publish(_readings with { Runtime = sample.Reading });
    }

    /// <summary>The allocator's figures at the last introspection.</summary>
    public AllocatorStatistics? LatestStatistics { get; set; }

    /// <summary>The allocator's figures at the oldest introspection still inside the window.</summary>
    public AllocatorStatistics? EarliestStatistics { get; set; }

    public long EarliestStatisticsUnixMilliseconds { get; set; }

    public long EarliestLayoutUnixMilliseconds { get; set; }

    /// <summary>The process's environment, read once per incarnation (it does not change); null until read, and dropped
    /// once <see cref="Parameters"/> is resolved for a known allocator.</summary>
    public ProcEnviron? Environment { get; set; }

    /// <summary>What the process declared at start (the allocator's effective parameters), for <see cref="ParametersFor"/>.</summary>
    public MemWatch.Probes.Assessment.ProcessParameters? Parameters
    {
        get => _parameters;
        set
        {
            _parameters = value;
            Publish(_readings with { DeclaredLimit = value?.DeclaredLimit });
        }
    }

    public AllocatorKind ParametersFor { get; set; }

    /// <summary>The runtime <see cref="Parameters"/> were resolved for (its declared limit depends on it).</summary>
    public RuntimeKind? ParametersRuntime { get; set; }

    /// <summary>Follows RSS after the last trim that released memory; null when none did.</summary>
    public TrimEfficacyTracker? TrimTracker { get; set; }

    // Schedule, in milliseconds of the injected TimeProvider's monotonic clock; only the sampler and the remediator touch these.
    public long NextRollupTicks { get; set; }

    public long NextSmapsTicks { get; set; }

    public long NextIntrospectTicks { get; set; }

    /// <summary>When the .NET counters are next due; only <see cref="DotNetCounterService"/> and the GC action touch it.</summary>
    public long NextDotNetTicks { get; set; }

    /// <summary>Multiplies RollupInterval; doubled while reads are slow, halved back when they are fast.</summary>
    public int RollupBackoff { get; set; } = 1;

    /// <summary>status and stat of this process held open (see <see cref="ProcFile"/>); null when no descriptor was to be
    /// had, and the sampler reads them by path. The sampler's alone: opened, read and closed on its thread.</summary>
    public HeldProcessFiles? HeldFiles { get; set; }

    /// <summary>When status was last read (monotonic milliseconds); between readings, a tick whose stat shows the same
    /// RSS as <see cref="StatRssAtStatus"/> carries status's figures forward. The sampler's alone.</summary>
    public long LastStatusTicks { get; set; }

    /// <summary>stat's RSS read with the last status. Compared with stat's, not status's own VmRSS: recent kernels
    /// (6.18 here) sum the per-CPU RSS counters exactly for status and approximately for stat, so the two differ by
    /// some pages even on an idle process, and status would be read every tick. The sampler's alone.</summary>
    public ulong StatRssAtStatus { get; private set; }

    /// <summary>Notes a reading of status, taken with a stat that showed <paramref name="statRssBytes"/>.</summary>
    public void StatusRead(long now, ulong statRssBytes)
    {
        LastStatusTicks = now;
        StatRssAtStatus = statRssBytes;
    }

    /// <summary>Multiplies RollupInterval too: doubled (up to <see cref="Sampler.MaxRollupStretch"/>) at each rollup that
    /// finds RSS where the last one left it, back to 1 when it has moved.</summary>
    public int RollupStretch { get; set; } = 1;

    /// <summary>RSS when the last rollup ran (0 before the first), and when, on the monotonic clock.</summary>
    public ulong RollupRssBytes { get; set; }

    public long LastRollupTicks { get; set; }

    public int SmapsBackoff { get; set; } = 1;

    /// <summary>Unix milliseconds of the last trim attempt (API or policy); 0 for never.</summary>
    public long LastTrimUnixMilliseconds { get; set; }

    /// <summary>
    /// Why MemWatch stopped acting on this process through ptrace: a remote call outlived its timeout and could not be
    /// rolled back, so a thread was left inside the callee, which may hold an allocator lock. No introspection or trim is
    /// made on this incarnation again (a restart of the process is a new target). Null while none happened. Under <see cref="Sync"/>.
    /// </summary>
    public string? Quarantine { get => _readings.Quarantine; set => Publish(_readings with { Quarantine = value }); }

    public bool Exited { get; set; }

    /// <summary>
    /// Keeps the allocator's figures for the classifier: the latest, and the earliest still inside the window (when the
    /// earliest ages out, the previous latest takes its place). Call with <see cref="Sync"/> held, before
    /// <see cref="Allocator"/> is replaced.
    /// </summary>
    public void RememberStatistics(AllocatorStatistics statistics, long unixMilliseconds)
    {
        if (EarliestStatistics is null || unixMilliseconds - EarliestStatisticsUnixMilliseconds > Window.MaxAge.TotalMilliseconds)
        {
            bool previousInWindow = LatestStatistics is not null && Allocator is { } previous
                && unixMilliseconds - previous.UnixMilliseconds <= Window.MaxAge.TotalMilliseconds;
            EarliestStatistics = previousInWindow ? LatestStatistics : statistics;
            EarliestStatisticsUnixMilliseconds = previousInWindow ? Allocator!.UnixMilliseconds : unixMilliseconds;
        }

        LatestStatistics = statistics;
    }

    /// <summary>The .NET runtime's GC figures at the oldest read still inside the window (for the classifier).</summary>
    public DotNetReading? EarliestDotNet { get; private set; }

    /// <summary>Keeps a .NET reading, and the oldest one inside the window. Call with <see cref="Sync"/> held.</summary>
    public void RememberDotNet(DotNetReading reading)
    {
        if (EarliestDotNet is null || reading.UnixMilliseconds - EarliestDotNet.UnixMilliseconds > Window.MaxAge.TotalMilliseconds)
        {
            bool previousInWindow = DotNet is { } previous && reading.UnixMilliseconds - previous.UnixMilliseconds <= Window.MaxAge.TotalMilliseconds;
            EarliestDotNet = previousInWindow ? DotNet : reading;
        }

        DotNet = reading;
    }

    /// <summary>The same for the region model. Call with <see cref="Sync"/> held, before <see cref="Layout"/> is replaced.</summary>
    public void RememberLayout(MemoryLayout layout, long unixMilliseconds, int threads = 0)
    {
        if (EarliestLayoutModel is null || unixMilliseconds - EarliestLayoutUnixMilliseconds > Window.MaxAge.TotalMilliseconds)
        {
            bool previousInWindow = LayoutModel is not null && Layout is { } previous
                && unixMilliseconds - previous.UnixMilliseconds <= Window.MaxAge.TotalMilliseconds;
            EarliestLayoutModel = previousInWindow ? LayoutModel : layout;
            EarliestLayoutUnixMilliseconds = previousInWindow ? Layout!.UnixMilliseconds : unixMilliseconds;
            EarliestLayoutThreads = previousInWindow ? LayoutThreads : threads;
        }

        LayoutModel = layout;
        LayoutThreads = threads;
    }

    /// <summary>Whether the daemon reads allocator statistics (Introspect, or a trim policy that needs them).</summary>
    public bool Introspected => Rule.Introspect || Rule.PolicyTrimEnabled;
}

namespace MemWatch.Daemon.Metrics;

/// <summary>The daemon's own counters, updated by the sampler and remediator and read by the exposition.</summary>
internal sealed class DaemonHealth
{
    public static readonly string[] DepthNames = ["status", "rollup", "smaps"];

    public static readonly string[] ErrorReasonNames =
        ["permission_denied", "malformed", "io_error", "introspection_failed", "target_limit", "internal"];

    public static readonly string[] ActionNames = ["trim", "gc"];

    public static readonly string[] ResultNames = ["released", "requested", "refused", "failed"];

    private readonly long[] _errors = new long[ErrorReasonNames.Length];
    private readonly long[] _remediations = new long[ActionNames.Length * ResultNames.Length];
    private long _lastSampleUnixMilliseconds;

    /// <summary>Per <see cref="SampleDepth"/>: status (status+stat of one target), rollup (smaps_rollup + cgroup), smaps (full).</summary>
    public DurationHistogram[] SampleDurations { get; } = [new(), new(), new()];

    public int Targets { get; set; }

    public long Ticks { get; private set; }

    public void ObserveDuration(SampleDepth depth, double seconds) => SampleDurations[(int)depth].Observe(seconds);

    public void CountError(SampleErrorReason reason) => Interlocked.Increment(ref _errors[(int)reason]);

    public long Errors(SampleErrorReason reason) => Interlocked.Read(ref _errors[(int)reason]);

    public void CountRemediation(RemediationAction action, RemediationResult result) =>
        Interlocked.Increment(ref _remediations[(int)action * ResultNames.Length + (int)result]);

    public long Remediations(RemediationAction action, RemediationResult result) =>
        Interlocked.Read(ref _remediations[(int)action * ResultNames.Length + (int)result]);

    /// <summary>Unix time of the end of the last complete sampling tick; 0 before the first.</summary>
    public long LastSampleUnixMilliseconds => Interlocked.Read(ref _lastSampleUnixMilliseconds);

    public void TickCompleted(long unixMilliseconds)
    {
        Interlocked.Exchange(ref _lastSampleUnixMilliseconds, unixMilliseconds);
        Ticks++;
    }
}

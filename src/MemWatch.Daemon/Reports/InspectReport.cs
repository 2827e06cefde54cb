namespace MemWatch.Daemon.Reports;

/// <summary>
/// What <c>memwatch inspect PID</c> reports, and <c>GET /api/targets/{pid}</c> later: a stable camelCase JSON shape.
/// Fields are only ever added; a field that does not apply is null, never a made-up zero.
/// </summary>
internal sealed record InspectReport
{
    public required int Pid { get; init; }

    /// <summary>The process name (comm).</summary>
    public required string Command { get; init; }

    /// <summary>The command line, arguments joined by spaces.</summary>
    public required string CommandLine { get; init; }

    public required DateTimeOffset CapturedAt { get; init; }

    public required ulong RssBytes { get; init; }

    public required ulong PssBytes { get; init; }

    public required ulong SwapBytes { get; init; }

    public ulong? AnonBytes { get; init; }

    public ulong? FileBytes { get; init; }

    public ulong? ShmemBytes { get; init; }

    /// <summary>Peak RSS (VmHWM).</summary>
    public ulong? RssPeakBytes { get; init; }

    public ulong? VirtualBytes { get; init; }

    public int Threads { get; init; }

    public required AllocatorReport Allocator { get; init; }

    public required IReadOnlyList<RegionReport> Regions { get; init; }

    /// <summary>glibc arenas other than the main one (each a 64 MiB reservation).</summary>
    public required int Arenas { get; init; }

    public required int Mappings { get; init; }

    public CgroupReport? Cgroup { get; init; }

    public int? OomScore { get; init; }

    public int? OomScoreAdj { get; init; }

    /// <summary>Set with --watch: RSS change over the window.</summary>
    public GrowthReport? Growth { get; init; }

    /// <summary>Page-fault rates over the --watch window, and the totals since the process started.</summary>
    public FaultsReport? Faults { get; init; }

    /// <summary>Managed figures when the target is a .NET runtime reachable through its diagnostic socket, else null.</summary>
    public DotNetReport? Dotnet { get; init; }

    /// <summary>The language runtime (CPython, Node, JVM, Go) and its own heap figures, or a declared limit; else null.</summary>
    public RuntimeReport? Runtime { get; init; }

    /// <summary>Set with --watch: what the memory does over the window, with evidence and advice (docs/verdicts.md).</summary>
    public VerdictReport? Verdict { get; init; }

    /// <summary>Set with --watch: when the cgroup (or the host) reaches its limit at the observed trend.</summary>
    public ForecastReport? Forecast { get; init; }

    /// <summary>Set with --attribute: the call stacks the growth of the window came from (docs/attribution.md); absent otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public AttributionReport? Attribution { get; init; }

    /// <summary>Readings that could not be taken, each with the reason (e.g. "cgroup: permission denied").</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

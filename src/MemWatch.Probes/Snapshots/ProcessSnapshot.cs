using MemWatch.Probes.Analysis;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;

namespace MemWatch.Probes.Snapshots;

/// <summary>Everything read about one process at one moment.</summary>
public sealed record ProcessSnapshot
{
    public required int Pid { get; init; }

    public required DateTimeOffset CapturedAt { get; init; }

    /// <summary>Monotonic clock (<see cref="Environment.TickCount64"/>) at capture, for rates.</summary>
    public required long TimestampMilliseconds { get; init; }

    public required ProcStatus Status { get; init; }

    public required ProcStat Stat { get; init; }

    /// <summary>The region model from smaps; null at <see cref="SnapshotDepth.Counters"/>.</summary>
    public MemoryLayout? Layout { get; init; }

    /// <summary>The memory cgroup; null when not read, not visible from here, or unreadable (see <see cref="Warnings"/>).</summary>
    public CgroupMemory? Cgroup { get; init; }

    public ProcCmdline? CommandLine { get; init; }

    public ProcOomScore? OomScore { get; init; }

    /// <summary>Optional readings that failed, one line each with the reason; the snapshot is still valid.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>RSS from smaps when read (exact at that pass), else VmRSS.</summary>
    public ulong RssBytes => Layout?.RssBytes ?? Status.VmRssBytes ?? 0;

    /// <summary>The counters of this snapshot as a trend sample.</summary>
    public MemorySample ToSample(double allocatorInUseBytes = double.NaN, double allocatorFreeBytes = double.NaN) => new(
        TimestampMilliseconds,
        Stat.StartTimeTicks,
        Status.VmRssBytes ?? 0,
        Status.RssAnonBytes ?? 0,
        Status.RssFileBytes ?? 0,
        Status.RssShmemBytes ?? 0,
        Status.VmSwapBytes ?? 0,
        Stat.MinorFaults,
        Stat.MajorFaults,
        allocatorInUseBytes,
        allocatorFreeBytes);
}

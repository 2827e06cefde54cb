using MemWatch.Probes.Analysis;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Snapshots;

namespace MemWatch.Daemon.Reports;

/// <summary>Turns probe snapshots (and, with --watch, a window of samples) into an <see cref="InspectReport"/>.</summary>
internal static class InspectReportBuilder
{
    /// <param name="snapshot">A full-depth snapshot.</param>
    /// <param name="window">Samples over the --watch window, or null.</param>
    /// <param name="growth">The analysis of <paramref name="window"/>, or null.</param>
    public static InspectReport Build(ProcessSnapshot snapshot, SampleWindow? window, WindowGrowth? growth)
    {
        MemoryLayout layout = snapshot.Layout
            ?? throw new ArgumentException("inspect needs a full snapshot (with the region model)", nameof(snapshot));
        var regions = new List<RegionReport>();
        foreach (RegionTotals t in layout.Regions)
        {
            if (t.Count == 0)
            {
                continue;
            }

            regions.Add(new RegionReport
            {
                Kind = t.Name,
                Count = t.Count,
                SizeBytes = t.SizeBytes,
                RssBytes = t.RssBytes,
                PssBytes = t.PssBytes,
                PrivateDirtyBytes = t.PrivateDirtyBytes,
                SwapBytes = t.SwapBytes,
                AnonHugePagesBytes = t.AnonHugePagesBytes,
                LazyFreeBytes = t.LazyFreeBytes,
            });
        }

        return new InspectReport
        {
            Pid = snapshot.Pid,
            Command = snapshot.Status.Name,
            CommandLine = snapshot.CommandLine?.DisplayText ?? "",
            CapturedAt = snapshot.CapturedAt,
            RssBytes = layout.RssBytes,
            PssBytes = layout.PssBytes,
            SwapBytes = layout.SwapBytes,
            AnonBytes = snapshot.Status.RssAnonBytes,
            FileBytes = snapshot.Status.RssFileBytes,
            ShmemBytes = snapshot.Status.RssShmemBytes,
            RssPeakBytes = snapshot.Status.VmHwmBytes,
            VirtualBytes = snapshot.Status.VmSizeBytes,
            Threads = snapshot.Status.Threads,
            Allocator = new AllocatorReport
            {
                Name = layout.Allocator.Name,
                DotNetRuntime = layout.Allocator.DotNetRuntime,
                Library = layout.Allocator.LibraryPath,
            },
            Regions = regions,
            Arenas = layout.ArenaCount,
            Mappings = layout.MappingCount,
            Cgroup = snapshot.Cgroup is { } cg ? BuildCgroup(cg) : null,
            OomScore = snapshot.OomScore?.Score,
            OomScoreAdj = snapshot.OomScore?.ScoreAdj,
            Growth = window is not null && growth is not null ? BuildGrowth(window, growth) : null,
            Faults = new FaultsReport
            {
                MinorTotal = snapshot.Stat.MinorFaults,
                MajorTotal = snapshot.Stat.MajorFaults,
                MinorPerSecond = growth?.Faults?.MinorPerSecond,
                MajorPerSecond = growth?.Faults?.MajorPerSecond,
            },
            Warnings = snapshot.Warnings,
        };
    }

    private static CgroupReport BuildCgroup(CgroupMemory cg) => new()
    {
        Version = cg.Version,
        Path = cg.Path,
        LimitBytes = cg.EffectiveLimitBytes ?? cg.LimitBytes,
        UsageBytes = cg.UsageBytes,
        PeakBytes = cg.PeakBytes,
        HighBytes = cg.HighBytes,
        LowBytes = cg.LowBytes,
        OomKills = cg.OomKills,
        AnonBytes = cg.Stat?.AnonBytes,
        FileBytes = cg.Stat?.FileBytes,
        ShmemBytes = cg.Stat?.ShmemBytes,
        PressureSomeAvg10 = cg.Pressure?.Some.Avg10,
    };

    private static GrowthReport BuildGrowth(SampleWindow window, WindowGrowth growth)
    {
        ulong max = 0;
        for (int i = 0; i < window.Count; i++)
        {
            max = Math.Max(max, window[i].RssBytes);
        }

        return new GrowthReport
        {
            WindowSeconds = window.SpanSeconds,
            Samples = window.Count,
            RssStartBytes = window.Oldest.RssBytes,
            RssEndBytes = window.Newest.RssBytes,
            RssBytesPerSecond = growth.Rss.IsValid ? growth.Rss.SlopePerSecond : 0,
            RssMaxBytes = max,
        };
    }
}

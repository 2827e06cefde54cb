using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Runtimes;
using static MemWatch.Probes.Verdicts.VerdictText;

namespace MemWatch.Probes.Verdicts;

/// <summary>
/// Rules for shapes of memory that are not one allocator's: threads that are never joined, shared memory (RssShmem)
/// touched by the process, a cache filling toward the limit the process declares, and transparent huge pages.
/// Thresholds are <see cref="ClassifierOptions"/> values; docs/verdicts.md describes each rule.
/// </summary>
internal static class ShapeRules
{
    /// <summary>The thread count grew by <see cref="ClassifierOptions.MinThreadGrowth"/> and a quarter over the window.</summary>
    public static Verdict? ThreadLeak(ClassifierInput input, ClassifierOptions o, double span)
    {
        int before = input.EarliestThreads, now = input.Threads;
        if (before <= 0 || now - before < o.MinThreadGrowth || now - before < o.MinThreadGrowthFraction * before)
        {
            return null;
        }

        var evidence = new List<string>(3)
        {
            Invariant($"threads {before} -> {now} over {Duration(span)} (+{now - before})"),
        };
        if (input.EarliestLayout is { } early && input.Layout is { } late)
        {
            double stacks = (double)late[RegionKind.Stack].RssBytes - early[RegionKind.Stack].RssBytes;
            double arenas = (double)late[RegionKind.Arena].RssBytes - early[RegionKind.Arena].RssBytes;
            evidence.Add(Invariant($"thread stacks {early[RegionKind.Stack].Count} -> {late[RegionKind.Stack].Count} mappings ({Signed(stacks)} resident, {Bytes(late[RegionKind.Stack].SizeBytes)} reserved), glibc arenas {Signed(arenas)} resident"));
        }

        if (input.Growth.Rss.IsValid)
        {
            evidence.Add(Invariant($"RSS {Rate(input.Growth.Rss.SlopePerSecond)} over the window"));
        }

        return new Verdict(VerdictKind.Leak, RetentionMechanismKind.ThreadLeak, o.RuntimeConfidence,
            Invariant($"Threads are created and not joined: {now - before} more in {Duration(span)}; each keeps its stack (and a share of an arena) until it exits."),
            evidence,
            [
                new("find where threads start and are never joined (ls /proc/PID/task, or a thread dump)", "each leaked thread holds its stack reservation and the memory it touched", false),
                new("join or detach finished threads, or use a bounded pool", "stops the growth", false),
            ],
            null, input.LatestStatistics is not null);
    }

    /// <summary>RssShmem carries the growth: shared pages, charged to the cgroup once, whoever touches them.</summary>
    public static Verdict? SharedMemory(ClassifierInput input, ClassifierOptions o, double rssGrowth, string rssLine)
    {
        SampleWindow w = input.Window;
        if (w.Count < 2)
        {
            return null;
        }

        double shmem = (double)w.Newest.ShmemBytes - w.Oldest.ShmemBytes;
        if (shmem < o.ExplainingShare * rssGrowth)
        {
            return null;
        }

        var evidence = new List<string>(3)
        {
            rssLine,
            Invariant($"RssShmem {Bytes(w.Oldest.ShmemBytes)} -> {Bytes(w.Newest.ShmemBytes)} ({Percent(shmem / rssGrowth)} of the growth); anonymous RSS {Signed((double)w.Newest.AnonBytes - w.Oldest.AnonBytes)}"),
        };
        if (input.Layout is { } l)
        {
            evidence.Add(Invariant($"PSS {Bytes(l.PssBytes)} against RSS {Bytes(l.RssBytes)} ({Percent(l.PssBytes / Math.Max(1.0, l.RssBytes))}); shared-memory regions {Bytes(l[RegionKind.Shmem].RssBytes)} resident, {Bytes(l[RegionKind.Shmem].PssBytes)} proportional"));
        }

        return new Verdict(VerdictKind.SharedMemoryGrowth, null, o.RuntimeConfidence,
            Invariant($"The process touches more shared memory ({Bytes(shmem)}: shared buffers, /dev/shm, memfd): pages shared with other processes, charged to the cgroup once, not a leak of this process."),
            evidence,
            [
                new("compare PSS with RSS (inspect's pssBytes), and the size of the shared segment (PostgreSQL shared_buffers, df /dev/shm)", "RSS counts each shared page in every process that touched it; the segment's size bounds the growth", false),
            ],
            null, input.LatestStatistics is not null);
    }

    /// <summary>A cache server (memcached, Redis with maxmemory) fills toward the item memory it declares.</summary>
    public static Verdict? BoundedCache(ClassifierInput input, ClassifierOptions o, double rssGrowth, double rssLatest, string rssLine)
    {
        if (input.DeclaredLimit is not { Bounds: DeclaredLimit.Cache } limit || input.Window.Count < 2)
        {
            return null;
        }

        double anon = (double)input.Window.Newest.AnonBytes - input.Window.Oldest.AnonBytes;
        double ceiling = limit.Bytes * (1 + o.CacheOverheadFraction) + o.MinRetainedBytes;
        if (anon < o.ExplainingShare * rssGrowth || rssLatest > ceiling)
        {
            return null;
        }

        double slope = input.Growth.Rss.IsValid ? input.Growth.Rss.SlopePerSecond : 0;
        double left = Math.Max(0, limit.Bytes - rssLatest);
        string when = slope > 0 ? Invariant($"; at {Rate(slope)} it reaches the limit in about {Duration(left / slope)}") : "";
        return new Verdict(VerdictKind.BoundedCacheGrowth, null, o.RuntimeConfidence,
            Invariant($"A cache fills toward the limit it declares ({limit.Source}, {Bytes(limit.Bytes)}): RSS {Bytes(rssLatest)}, {Bytes(left)} below it{when}. Bounded by design, not a leak."),
            [rssLine, Invariant($"declared item memory {Bytes(limit.Bytes)} ({limit.Source}); anonymous RSS grew {Bytes(anon)}")],
            [new("size the limit below the cgroup's memory limit, with room for the server's own overhead", "the cache stops growing at its limit and evicts", false)],
            null, input.LatestStatistics is not null);
    }

    /// <summary>A line naming transparent huge pages when they hold much of the anonymous RSS; null otherwise.</summary>
    public static string? HugePageLine(ClassifierInput input, ClassifierOptions o, double anon)
    {
        if (input.Layout is not { } l || l.AnonHugePagesBytes < o.MinRetainedBytes || l.AnonHugePagesBytes < o.HugePageShareOfAnon * anon)
        {
            return null;
        }

        return Invariant($"{Bytes(l.AnonHugePagesBytes)} of anonymous RSS ({Percent(l.AnonHugePagesBytes / Math.Max(1, anon))}) is in transparent huge pages: a 2 MiB page stays resident while any 4 KiB of it is in use");
    }
}

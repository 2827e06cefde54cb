using MemWatch.IntegrationTests.Support;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.IntegrationTests.Allocators;

/// <summary>End to end: real workloads, the real ptrace engine, the real allocators.</summary>
public sealed class AllocatorIntrospectionTests
{
    private const long MiB = 1024 * 1024;
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void ReadStatistics_GlibcLiveBytesWorkload_InUseWithinOnePercent()
    {
        using Workload w = Workload.Start("live_bytes.c");
        w.Send("alloc 20000");
        long live = long.Parse(w.Send("freehalf").Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);

        IAllocatorIntrospector glibc = IntrospectorFor(w.Pid);
        Assert.Equal("glibc", glibc.Allocator);
        AllocatorStatistics s;
        using (IRemoteCallSession session = RemoteEngine.Open(w.Pid, glibc.UnsafeCodeRanges))
        {
            s = glibc.ReadStatistics(session, s_callTimeout);
        }

        // mallinfo2's uordblks+hblkhd is an independent in-use figure from the same allocator.
        ulong mallinfoInUse = s.Properties["mallinfo2.uordblks"] + s.Properties["mallinfo2.hblkhd"];
        Assert.InRange(s.InUseBytes!.Value, live * 0.99, live * 1.01 + (2 * MiB));
        Assert.InRange(mallinfoInUse, live * 0.99, live * 1.01 + (2 * MiB));
        Assert.Equal("injected", s.Source);
        Assert.True(s.PauseMicrosecondsMax > 0);
        Assert.Equal("OK", w.Send("live")[..2]);
    }

    [Fact]
    public void Release_GlibcSeed512MiBFreed_ReturnsMostAndMatchesModel()
    {
        using Workload w = Workload.Start("seed.cc");
        w.Send("fill 512");
        w.Send("drop");
        long rssBefore = ProcessMemory.RssBytes(w.Pid);

        IAllocatorIntrospector glibc = IntrospectorFor(w.Pid);
        AllocatorStatistics s;
        ReleaseResult r;
        using (IRemoteCallSession session = RemoteEngine.Open(w.Pid, glibc.UnsafeCodeRanges))
        {
            s = glibc.ReadStatistics(session, s_callTimeout);
            r = glibc.Release(session, s_callTimeout);
        }

        long rssAfter = ProcessMemory.RssBytes(w.Pid);
        long released = rssBefore - rssAfter;
        Assert.Equal(ReleaseOutcome.Released, r.Outcome);
        Assert.True(released > 400 * MiB, $"RSS {rssBefore} -> {rssAfter}");
        long predicted = (long)s.ReleasableBytes!.Value;
        Assert.InRange(released, predicted * 0.9, predicted * 1.1);
        Assert.Equal("OK", w.Send("drop")[..2]);
    }

    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "jemalloc")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4", "tcmalloc")]
    public void Release_PreloadedAllocatorSeed_StatsAndReleaseWorkAndRssDrops(string library, string allocator)
    {
        using Workload w = Workload.Start("seed.cc", environment: new Dictionary<string, string> { ["LD_PRELOAD"] = library });
        w.Send("fill 256");
        w.Send("drop");
        long rssBefore = ProcessMemory.RssBytes(w.Pid);

        AllocatorStatistics s;
        ReleaseResult r;
        using (AllocatorConnection connection = AllocatorConnection.Open(w.Pid))
        {
            Assert.Equal(allocator, connection.Introspector.Allocator);
            Assert.NotEmpty(connection.Introspector.UnsafeCodeRanges);
            s = connection.ReadStatistics(s_callTimeout);
            r = connection.Release(s_callTimeout);
        }

        long rssAfter = ProcessMemory.RssBytes(w.Pid);
        Assert.Equal(ReleaseOutcome.Requested, r.Outcome);
        Assert.True(s.InUseBytes < 64UL * MiB, $"in use {s.InUseBytes}");
        // jemalloc's decay (dirty_decay_ms 10 s) may already have purged part of the 256 MiB when stats are read.
        Assert.True(s.ReleasableBytes > 64UL * MiB, $"releasable {s.ReleasableBytes}");
        Assert.True(rssBefore - rssAfter > (long)s.ReleasableBytes!.Value / 2, $"RSS {rssBefore} -> {rssAfter}, releasable {s.ReleasableBytes}");
        Assert.Equal("OK", w.Send("drop")[..2]);
    }

    private static IAllocatorIntrospector IntrospectorFor(int pid)
    {
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, pid, new FileBuffer(), out TargetSymbols? symbols));
        return AllocatorIntrospectors.ForTarget(symbols);
    }
}

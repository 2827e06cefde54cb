using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;

namespace MemWatch.IntegrationTests.Cgroups;

/// <summary>Real v1 memory cgroups with a real workload (tests/workloads/cgroup_alloc.c) inside.</summary>
public sealed class V1MemoryCgroupTests
{
    private const ulong Limit = 256UL << 20;

    [Fact]
    public void TryRead_WorkloadAllocating64MiBInLimitedCgroup_FindsCgroupLimitAndUsage()
    {
        using var cgroup = new TemporaryMemoryCgroup(Limit);
        using Workload w = Workload.Start("cgroup_alloc.c");
        cgroup.Add(w.Pid);
        const ulong allocated = 64UL << 20;
        Assert.Equal("OK allocated=64", w.Send("alloc 64"));
        var reader = new CgroupMemoryReader();
        var buffer = new FileBuffer();

        Assert.True(reader.TryRead(w.Pid, buffer, out CgroupMemory? m));

        Assert.Equal(1, m.Version);
        Assert.Equal(cgroup.CgroupPath, m.Path);
        Assert.Equal(cgroup.Directory, m.Directory);
        Assert.Equal(Limit, m.LimitBytes);
        Assert.Equal(Limit, m.EffectiveLimitBytes);
        Assert.InRange(m.UsageBytes!.Value, allocated, Limit);
        Assert.True(m.PeakBytes >= m.UsageBytes);
        Assert.InRange(m.Stat!.AnonBytes!.Value, allocated, allocated + (16UL << 20));
        Assert.Equal(0UL, m.OomKills);
        Assert.True(CgroupProcs.TryRead(m.Directory, buffer, out CgroupProcs? procs));
        Assert.Equal([w.Pid], procs.Pids);
    }

    [Fact]
    public void TryRead_UnlimitedChildOfLimitedCgroup_EffectiveLimitIsTheParents()
    {
        using var parent = new TemporaryMemoryCgroup(Limit);
        string child = Path.Combine(parent.Directory, "child");
        Directory.CreateDirectory(child);
        Workload? w = null;
        try
        {
            w = Workload.Start("cgroup_alloc.c");
            File.WriteAllText(Path.Combine(child, "cgroup.procs"), w.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.Send("alloc 8");

            Assert.True(new CgroupMemoryReader().TryRead(w.Pid, new FileBuffer(), out CgroupMemory? m));

            Assert.Equal(parent.CgroupPath + "/child", m.Path);
            Assert.Null(m.LimitBytes);
            Assert.Equal(Limit, m.EffectiveLimitBytes);
        }
        finally
        {
            w?.Dispose();
            DeleteWhenEmpty(child);
        }
    }

    [Fact]
    public void TryRead_WorkloadExceedingLimit_IsOomKilledAndOomKillsIncrements()
    {
        using var cgroup = new TemporaryMemoryCgroup(Limit);
        using Workload w = Workload.Start("cgroup_alloc.c");
        cgroup.Add(w.Pid);
        w.Send("alloc 32");
        var buffer = new FileBuffer();
        var resolver = new CgroupResolver(ProcFileSystem.Default);
        Assert.True(resolver.TryResolveMemory(w.Pid, buffer, out CgroupLocation? location));
        Assert.NotNull(location);
        Assert.True(CgroupMemory.TryRead(location, buffer, out CgroupMemory? before));
        ulong killsBefore = before.OomKills!.Value;

        // 400 MiB more than fits: the kernel kills the workload mid-command, so no answer line comes.
        Assert.Throws<InvalidOperationException>(() => w.Send("alloc 400", TimeSpan.FromSeconds(60)));
        Assert.True(w.WaitForExit(30_000));

        Assert.Equal(137, w.ExitCode);
        Assert.True(CgroupMemory.TryRead(location, buffer, out CgroupMemory? after));
        Assert.Equal(killsBefore + 1, after.OomKills);
        Assert.True(after.PeakBytes >= Limit - (8UL << 20));
        Assert.False(new CgroupMemoryReader().TryRead(w.Pid, buffer, out _));
    }

    private static void DeleteWhenEmpty(string directory)
    {
        for (int attempt = 0; attempt < 50 && Directory.Exists(directory); attempt++)
        {
            try
            {
                Directory.Delete(directory);
            }
            catch (IOException)
            {
                Thread.Sleep(100);
            }
        }
    }
}

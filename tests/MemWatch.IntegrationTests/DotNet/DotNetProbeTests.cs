using System.Globalization;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Snapshots;

namespace MemWatch.IntegrationTests.DotNet;

/// <summary>The .NET probes against real .NET targets built by the tests.</summary>
[Collection(DotNetTargetsCollection.Name)]
public sealed class DotNetProbeTests
{
    private const long MiB = 1024 * 1024;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Locate_DotNetTarget_FindsItsListeningSocketKeyedByStartTime()
    {
        using DotNetTarget target = DotNetTarget.Start();

        Assert.True(new DiagnosticEndpointLocator().TryLocate(target.Pid, out DiagnosticEndpoint? endpoint));

        Assert.Equal(target.Pid, endpoint.Pid);
        Assert.Equal(target.Pid, endpoint.NamespacePid);
        Assert.True(endpoint.Listening);
        Assert.True(ProcStat.TryRead(ProcFileSystem.Default, target.Pid, new FileBuffer(), out ProcStat? stat));
        Assert.Equal(stat.StartTimeTicks, endpoint.DisambiguationKey);
        Assert.Equal($"/proc/{target.Pid}/root/tmp/dotnet-diagnostic-{target.Pid}-{stat.StartTimeTicks}-socket", endpoint.SocketPath);
    }

    [Fact]
    public void Locate_TargetWithOwnTmpdir_FindsTheSocketThere()
    {
        string tmp = Directory.CreateTempSubdirectory("memwatch-dotnet-tmpdir-").FullName;
        try
        {
            using DotNetTarget target = DotNetTarget.Start(environment: new Dictionary<string, string> { ["TMPDIR"] = tmp });

            Assert.True(new DiagnosticEndpointLocator().TryLocate(target.Pid, out DiagnosticEndpoint? endpoint));
            Assert.StartsWith($"/proc/{target.Pid}/root{tmp}/dotnet-diagnostic-{target.Pid}-", endpoint.SocketPath);
            Assert.True(endpoint.Listening);
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }

    [Fact]
    public void Locate_NativeProcessOrDiagnosticsDisabled_FindsNothing()
    {
        using Workload native = Workload.Start("cgroup_alloc.c");
        using DotNetTarget disabled = DotNetTarget.Start(environment: new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" });
        var locator = new DiagnosticEndpointLocator();

        Assert.False(locator.TryLocate(native.Pid, out _));
        Assert.False(locator.TryLocate(disabled.Pid, out _));
        Assert.False(locator.TryLocate(int.MaxValue, out _));
    }

    /// <summary>
    /// A target in its own pid and mount namespaces with a private /tmp, like a container: its socket is named with its
    /// namespaced pid and exists only in its mount namespace (a tmpfs over an empty host directory, its TMPDIR), so only
    /// /proc/PID/root reaches it.
    /// </summary>
    [Fact]
    public void Locate_TargetInOtherPidAndMountNamespace_ReachesTheSocketThroughProcRoot()
    {
        string dll = DotNetWorkload.Build(DotNetTarget.Name);
        string tmp = Directory.CreateTempSubdirectory("memwatch-dotnet-ns-").FullName;
        string inner = $"mount -t tmpfs memwatch-test {tmp} && TMPDIR={tmp} exec dotnet \"{dll}\"";
        Workload w = Workload.StartExecutable(
            "unshare --pid --mount --mount-proc --propagation private --kill-child",
            $"sh -c '{inner}'",
            readyTimeout: TimeSpan.FromSeconds(120),
            label: "namespaced managed_target");
        int hostPid = 0;
        try
        {
            int nsPid = int.Parse(w.ReadyLine.Split('=')[1], CultureInfo.InvariantCulture);
            hostPid = ChildOf(w.Pid);
            Assert.True(new DiagnosticEndpointLocator().TryLocate(hostPid, out DiagnosticEndpoint? endpoint));

            Assert.Equal(hostPid, endpoint.Pid);
            Assert.Equal(nsPid, endpoint.NamespacePid);
            Assert.NotEqual(hostPid, nsPid);
            Assert.StartsWith($"/proc/{hostPid}/root{tmp}/dotnet-diagnostic-{nsPid}-", endpoint.SocketPath);
            Assert.Empty(Directory.GetFileSystemEntries(tmp));

            ManagedHeapFigures figures = new ManagedHeapReader().Read(endpoint, s_timeout);
            Assert.True(figures.GcHeapBytes > 0);
        }
        finally
        {
            if (hostPid != 0)
            {
                Kill(hostPid);
            }

            w.Dispose();
            Directory.Delete(tmp, recursive: true);
        }
    }

    [Fact]
    public void Read_ManagedLeak_MatchesWhatTheTargetReportsAndLeavesNoSession()
    {
        using DotNetTarget target = DotNetTarget.Start();
        DiagnosticEndpoint endpoint = Locate(target.Pid);
        target.Send("leak 96");
        int socketsBefore = DotNetTarget.SocketCount(target.Pid);
        Dictionary<string, long> before = target.Send("stats");

        ManagedHeapFigures f = new ManagedHeapReader().Read(endpoint, s_timeout);

        Dictionary<string, long> after = target.Send("stats");
        // gc-heap-size is GC.GetTotalMemory(false) at the counter's poll, between the two self-reports; the counter
        // session's own allocations in the target are a few KiB.
        Assert.InRange((long)f.GcHeapBytes, Math.Min(before["total"], after["total"]) - MiB, Math.Max(before["total"], after["total"]) + MiB);
        Assert.True(f.GcHeapBytes >= 96 * MiB, $"GC heap {f.GcHeapBytes}");
        Assert.NotNull(f.GcCommittedBytes);
        Assert.InRange((long)f.GcCommittedBytes!.Value, Math.Min(before["committed"], after["committed"]) - MiB, Math.Max(before["committed"], after["committed"]) + MiB);
        Assert.NotNull(f.Gen0Bytes);
        Assert.NotNull(f.Gen1Bytes);
        Assert.NotNull(f.Gen2Bytes);
        Assert.NotNull(f.LohBytes);
        Assert.NotNull(f.PohBytes);
        Assert.NotNull(f.FragmentationBytes);
        Assert.NotNull(f.GcCount);
        Assert.True(f.AllocationRateBytesPerSecond >= 0, $"allocation rate {f.AllocationRateBytesPerSecond} over an interval of {f.IntervalSeconds} s");
        Assert.InRange(f.IntervalSeconds, 0.1, 5);
        ulong rss = ReadRss(target.Pid);
        Assert.InRange(f.WorkingSetBytes!.Value, rss * 0.7, rss * 1.3);

        AssertNoSessionLeft(target.Pid, socketsBefore);
    }

    [Fact]
    public void Split_ManagedLeakGrowsTheManagedHeap_NativeLeakGrowsOtherNative()
    {
        using DotNetTarget target = DotNetTarget.Start();
        DiagnosticEndpoint endpoint = Locate(target.Pid);
        DotNetMemorySplit start = Split(endpoint);

        target.Send("leak 128");
        DotNetMemorySplit managed = Split(endpoint);
        target.Send("native 128");
        DotNetMemorySplit native = Split(endpoint);

        Assert.True(managed.GcRegionRecognized);
        Assert.InRange((long)managed.ManagedHeapBytes - (long)start.ManagedHeapBytes, 120 * MiB, 160 * MiB);
        Assert.InRange((long)managed.GcResidentBytes - (long)start.GcResidentBytes, 100 * MiB, 200 * MiB);
        Assert.InRange((long)managed.OtherNativeBytes - (long)start.OtherNativeBytes, -16 * MiB, 16 * MiB);

        Assert.InRange((long)native.OtherNativeBytes - (long)managed.OtherNativeBytes, 127 * MiB, 136 * MiB);
        Assert.InRange((long)native.ManagedHeapBytes - (long)managed.ManagedHeapBytes, -16 * MiB, 16 * MiB);
        Assert.InRange((long)native.RuntimeNativeBytes - (long)managed.RuntimeNativeBytes, -16 * MiB, 16 * MiB);
        Assert.True(native.ManagedHeapBytes + native.OtherNativeBytes <= native.RssBytes + 16 * MiB);
    }

    [Fact]
    public void Trigger_ChurnTarget_FullGcReclaimsTheGarbage()
    {
        using DotNetTarget target = DotNetTarget.Start(largeGen0: true);
        DiagnosticEndpoint endpoint = Locate(target.Pid);
        // 64 MiB stays within the gen0 budget (about 100 MiB of garbage survived uncollected on this machine).
        Dictionary<string, long> churned = target.Send("churn 64");
        Assert.True(churned["total"] >= 60 * MiB, $"the target collected its garbage by itself: {churned["total"]} bytes left");
        int socketsBefore = DotNetTarget.SocketCount(target.Pid);
        ManagedHeapFigures churnedFigures = new ManagedHeapReader().Read(endpoint, s_timeout);

        GcTriggerResult r = new GcTrigger().Trigger(endpoint, s_timeout);

        Dictionary<string, long> after = target.Send("stats");
        ManagedHeapFigures collected = new ManagedHeapReader().Read(endpoint, s_timeout);
        Assert.True(churnedFigures.AllocatedSinceLastGcBytes >= 48 * MiB, $"since last GC {churnedFigures.AllocatedSinceLastGcBytes}");
        Assert.True(collected.AllocatedSinceLastGcBytes < 16 * MiB, $"since last GC {collected.AllocatedSinceLastGcBytes}");
        Assert.True(r.GcObserved);
        Assert.NotNull(r.PauseDuration);
        Assert.True(r.HeapBeforeBytes >= 60 * MiB, $"before {r.HeapBeforeBytes}");
        Assert.True(r.HeapAfterBytes < 16 * MiB, $"after {r.HeapAfterBytes}");
        Assert.True(r.ReclaimedBytes >= 48 * MiB, $"reclaimed {r.ReclaimedBytes}");
        Assert.True(after["gen2"] > churned["gen2"], "the target saw no gen2 collection");
        Assert.InRange((long)r.HeapAfterBytes, 0, after["total"] + MiB);
        AssertNoSessionLeft(target.Pid, socketsBefore);
    }

    [Fact]
    public void Trigger_ManagedLeak_FreesLittle()
    {
        using DotNetTarget target = DotNetTarget.Start(largeGen0: true);
        DiagnosticEndpoint endpoint = Locate(target.Pid);
        target.Send("leak 96");

        GcTriggerResult r = new GcTrigger().Trigger(endpoint, s_timeout);

        Assert.True(r.GcObserved);
        Assert.True(r.HeapAfterBytes >= 96 * MiB, $"after {r.HeapAfterBytes}");
        Assert.True(r.ReclaimedBytes < 16 * MiB, $"reclaimed {r.ReclaimedBytes}");
        ManagedHeapFigures f = new ManagedHeapReader().Read(endpoint, s_timeout);
        Assert.True(f.AllocatedSinceLastGcBytes < 16 * MiB, $"a leak's heap survived the GC, yet {f.AllocatedSinceLastGcBytes} counted as new");
        Assert.True(f.GcHeapBytes >= 96 * MiB);
    }

    [Fact]
    public void Capture_SubscriberNeverDone_StopsAtTheCapAndCleansUp()
    {
        using DotNetTarget target = DotNetTarget.Start();
        DiagnosticEndpoint endpoint = Locate(target.Pid);
        int socketsBefore = DotNetTarget.SocketCount(target.Pid);
        int events = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        bool completed = EventPipeCapture.Run(
            endpoint,
            [new("System.Runtime", 0, EventPipeProviderSpec.Informational, new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" })],
            TimeSpan.FromSeconds(3),
            (source, _) => source.EventRead += _ => Interlocked.Increment(ref events));

        Assert.False(completed);
        Assert.InRange(clock.Elapsed.TotalSeconds, 2.9, 20);
        Assert.True(events > 0, "no event arrived in 3 s");
        AssertNoSessionLeft(target.Pid, socketsBefore);
    }

    [Fact]
    public void Capture_TargetKilledDuringSession_FailsUnreachableAndCleansUp()
    {
        using DotNetTarget target = DotNetTarget.Start();
        DiagnosticEndpoint endpoint = Locate(target.Pid);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var killer = new Timer(_ => target.Workload.Kill(), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);

        var e = Assert.Throws<DotNetDiagnosticsException>(() => EventPipeCapture.Run(
            endpoint,
            [new("System.Runtime", 0, EventPipeProviderSpec.Informational, new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" })],
            TimeSpan.FromSeconds(120),
            (_, _) => { }));

        Assert.Equal(DotNetDiagnosticsFailure.Unreachable, e.Reason);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed} after the target died");

        // Its sockets close before it is reaped: the failure can come a moment before HasExited turns true.
        Assert.True(target.Workload.WaitForExit(30_000), "the call failed but the target was not killed");
        Assert.Equal(0, EventPipeStreamSession.OpenSessions);
        AssertNoParserThread();
    }

    [Fact]
    public void Read_StoppedTarget_TimesOutBoundedAndTheTargetRecovers()
    {
        using DotNetTarget target = DotNetTarget.Start();
        DiagnosticEndpoint endpoint = Locate(target.Pid);
        int socketsBefore = DotNetTarget.SocketCount(target.Pid);
        Signal(target.Pid, "STOP");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var e = Assert.Throws<DotNetDiagnosticsException>(() => new ManagedHeapReader().Read(endpoint, TimeSpan.FromSeconds(3)));

            Assert.Equal(DotNetDiagnosticsFailure.Timeout, e.Reason);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
            Assert.Equal(0, EventPipeStreamSession.OpenSessions);
        }
        finally
        {
            Signal(target.Pid, "CONT");
        }

        // The runtime then finds the request on a closed connection; it must go on serving and not keep the session.
        Assert.True(Poll(() => DotNetTarget.SocketCount(target.Pid) <= socketsBefore, TimeSpan.FromSeconds(30)));
        Assert.True(new ManagedHeapReader().Read(endpoint, s_timeout).GcHeapBytes > 0);
        Assert.StartsWith("OK ", target.Workload.Send("stats"));
    }

    [Fact]
    public void Read_TargetGone_FailsWithUnreachable()
    {
        DiagnosticEndpoint endpoint;
        using (DotNetTarget target = DotNetTarget.Start())
        {
            endpoint = Locate(target.Pid);
        }

        var e = Assert.Throws<DotNetDiagnosticsException>(() => new ManagedHeapReader().Read(endpoint, s_timeout));
        Assert.Equal(DotNetDiagnosticsFailure.Unreachable, e.Reason);
        Assert.Equal(0, EventPipeStreamSession.OpenSessions);
    }

    internal static DiagnosticEndpoint Locate(int pid)
    {
        Assert.True(new DiagnosticEndpointLocator().TryLocate(pid, out DiagnosticEndpoint? endpoint), $"no diagnostic socket for {pid}");
        return endpoint;
    }

    private static DotNetMemorySplit Split(DiagnosticEndpoint endpoint)
    {
        ManagedHeapFigures f = new ManagedHeapReader().Read(endpoint, s_timeout);
        var reader = new ProcessSnapshotReader(ProcFileSystem.Default, new CgroupMemoryReader());
        Assert.True(reader.TryCapture(endpoint.Pid, SnapshotDepth.Full, out ProcessSnapshot? snapshot));
        return DotNetMemorySplit.From(f, snapshot.Layout!);
    }

    private static ulong ReadRss(int pid)
    {
        Assert.True(ProcStatus.TryRead(ProcFileSystem.Default, pid, new FileBuffer(), out ProcStatus? status));
        return status.VmRssBytes!.Value;
    }

    /// <summary>No session object, no parser thread here, and the target has closed every connection we opened.</summary>
    private static void AssertNoSessionLeft(int pid, int targetSocketsBefore)
    {
        Assert.Equal(0, EventPipeStreamSession.OpenSessions);
        AssertNoParserThread();
        Assert.True(
            Poll(() => DotNetTarget.SocketCount(pid) <= targetSocketsBefore, TimeSpan.FromSeconds(30)),
            $"the target still has {DotNetTarget.SocketCount(pid)} sockets, {targetSocketsBefore} before");
    }

    /// <summary>The parser thread is joined before a call returns; the kernel task can take a moment longer to go.</summary>
    private static void AssertNoParserThread() => Assert.True(
        Poll(() => !ThreadNames().Contains(EventPipeCapture.ThreadName), TimeSpan.FromSeconds(10)),
        $"a {EventPipeCapture.ThreadName} thread is still running");

    private static List<string> ThreadNames()
    {
        var names = new List<string>();
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                names.Add(File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'));
            }
            catch (IOException)
            {
                // The thread exited.
            }
        }

        return names;
    }

    private static bool Poll(Func<bool> condition, TimeSpan timeout)
    {
        long end = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > end)
            {
                return false;
            }

            Thread.Sleep(100);
        }

        return true;
    }

    /// <summary>The one child of <paramref name="parent"/> (unshare's forked child, pid 1 of the new namespace).</summary>
    private static int ChildOf(int parent)
    {
        int found = 0;
        Assert.True(Poll(
            () =>
            {
                foreach (string dir in Directory.EnumerateDirectories("/proc"))
                {
                    if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                        && ProcStatus.TryRead(ProcFileSystem.Default, pid, new FileBuffer(4096), out ProcStatus? s) && s.PPid == parent)
                    {
                        found = pid;
                        return true;
                    }
                }

                return false;
            },
            TimeSpan.FromSeconds(30)));
        return found;
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static void Kill(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            p.Kill();
        }
        catch (ArgumentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }
}

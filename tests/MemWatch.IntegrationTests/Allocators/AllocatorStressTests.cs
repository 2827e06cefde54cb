using System.Globalization;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Allocators;

/// <summary>
/// Hundreds of statistics readings and trims into a target whose four threads hammer malloc/free/realloc over
/// checksummed blocks: every call succeeds or is refused cleanly, nothing is corrupted, no thread is left stopped.
/// </summary>
public sealed class AllocatorStressTests(ITestOutputHelper output)
{
    private const int StatisticsReadings = 300;
    private const int Releases = 50;
    private const int CallsPerConnection = 10;
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void StressWorkload_DetectsCorruption()
    {
        // The checksum must be able to fail, or the stress test below proves nothing.
        using Workload w = Workload.Start("malloc_stress.c");
        Assert.Throws<InvalidOperationException>(() => w.Send("corrupt"));
        Assert.True(w.WaitForExit(30_000));
        Assert.Equal(3, w.ExitCode);
    }

    [Fact]
    public void HundredsOfCalls_IntoFourThreadsHammeringMalloc_NoCorruptionNoStuckThread()
    {
        using Workload w = Workload.Start("malloc_stress.c");
        int[] workers = WaitForThreads(w.Pid, 5).Where(t => t != w.Pid).ToArray();
        long opsBefore = Ops(w.Send("status"));
        var nativeTrims = new List<long>();

        var statisticsPauses = new List<long>();
        var statisticsMeanPauses = new List<double>();
        var releasePauses = new List<long>();
        var releaseCallees = new List<long>();
        var refusals = new Dictionary<RemoteCallFailure, int>();
        int remoteCalls = 0;
        int operations = StatisticsReadings + Releases;
        AllocatorConnection? connection = null;
        try
        {
            for (int i = 0; i < operations; i++)
            {
                if (i % CallsPerConnection == 0)
                {
                    // Half the connections let the engine pick a thread (the main one, idle in read); the other half pin a
                    // worker, which is inside malloc much of the time, so the safety gate has to wait for a safe point.
                    connection?.Dispose();
                    connection = null;
                    int block = i / CallsPerConnection;
                    RemoteCallOptions? options = block % 2 == 0 ? null : new RemoteCallOptions { ThreadId = workers[block / 2 % workers.Length] };
                    connection = AllocatorConnection.Open(w.Pid, options);
                    Assert.Equal("glibc", connection.Introspector.Allocator);
                }

                try
                {
                    if (i % 7 == 6)
                    {
                        ReleaseResult r = connection!.Release(s_callTimeout);
                        Assert.True(r.Outcome is ReleaseOutcome.Released or ReleaseOutcome.NothingReleased, r.Message);
                        releasePauses.Add(r.PauseMicroseconds);
                        releaseCallees.Add(r.CalleeMicroseconds);
                        remoteCalls++;
                    }
                    else
                    {
                        AllocatorStatistics s = connection!.ReadStatistics(s_callTimeout);
                        Assert.True(s.InUseBytes > 0 && s.Arenas >= 1, $"in use {s.InUseBytes}, arenas {s.Arenas}");
                        statisticsPauses.Add(s.PauseMicrosecondsMax);
                        statisticsMeanPauses.Add((double)s.PauseMicrosecondsTotal / s.Calls);
                        remoteCalls += s.Calls;
                    }
                }
                catch (RemoteCallException e)
                {
                    // A clean refusal: the engine restored the thread before throwing. Anything else fails the test.
                    Assert.True(e.Reason is RemoteCallFailure.NotSafe or RemoteCallFailure.Busy, $"{e.Reason}: {e.Message}");
                    refusals[e.Reason] = refusals.GetValueOrDefault(e.Reason) + 1;
                }

                if (i % 25 == 0)
                {
                    Assert.Contains("corrupt=0", w.Send("status"));
                }

                if (i % 35 == 20)
                {
                    // What malloc_trim costs when the target calls it itself, interleaved under the same churn:
                    // the yardstick for the injected callee time.
                    nativeTrims.Add(long.Parse(w.Send("trim").Split(' ')[1]["trim_us=".Length..], CultureInfo.InvariantCulture));
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }

        Assert.False(w.HasExited, "the workload died");
        Assert.All(Directory.EnumerateDirectories($"/proc/{w.Pid}/task"), AssertNotStopped);

        // Every thread is still running its loop: the operation count keeps rising.
        long opsAfter = Ops(w.Send("status"));
        Assert.True(opsAfter > opsBefore, $"ops {opsBefore} -> {opsAfter}");
        Assert.StartsWith("OK verified=", w.Send("check", TimeSpan.FromSeconds(120)));
        Assert.Contains("corrupt=0", w.Send("status"));
        Assert.False(w.HasExited);

        int refused = refusals.Values.Sum();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{operations} operations, {remoteCalls} remote calls, {refused} refused ({string.Join(", ", refusals.Select(r => $"{r.Key} {r.Value}"))}); workload ops {opsBefore} -> {opsAfter}"));
        output.WriteLine(Distribution("statistics reading, longest call pause µs", statisticsPauses));
        output.WriteLine(Distribution("statistics reading, mean call pause µs", statisticsMeanPauses.ConvertAll(p => (long)p)));
        output.WriteLine(Distribution("malloc_trim pause µs", releasePauses));
        output.WriteLine(Distribution("malloc_trim callee µs", releaseCallees));
        output.WriteLine(Distribution("malloc_trim called by the target itself µs", nativeTrims));

        // Refusals are allowed, not a way out: most operations must have gone through.
        Assert.True(statisticsPauses.Count >= StatisticsReadings / 2, $"only {statisticsPauses.Count} statistics readings succeeded");
        Assert.True(releasePauses.Count >= Releases / 2, $"only {releasePauses.Count} releases succeeded");
    }

    private static void AssertNotStopped(string taskDirectory)
    {
        string stat = File.ReadAllText(Path.Combine(taskDirectory, "stat"));
        char state = stat[stat.LastIndexOf(')') + 2];
        Assert.True(state is not ('t' or 'T'), $"{taskDirectory} is in state {state}");
        string tracer = File.ReadLines(Path.Combine(taskDirectory, "status")).Single(l => l.StartsWith("TracerPid:", StringComparison.Ordinal));
        Assert.Equal("0", tracer[10..].Trim());
    }

    private static int[] WaitForThreads(int pid, int count)
    {
        long until = Environment.TickCount64 + 30_000;
        while (true)
        {
            int[] tids = Directory.EnumerateDirectories($"/proc/{pid}/task").Select(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture)).ToArray();
            if (tids.Length >= count)
            {
                return tids;
            }

            Assert.True(Environment.TickCount64 < until, $"{tids.Length} threads, expected {count}");
            Thread.Sleep(20);
        }
    }

    private static long Ops(string status) => long.Parse(status.Split(' ')[1]["ops=".Length..], CultureInfo.InvariantCulture);

    private static string Distribution(string what, List<long> values)
    {
        if (values.Count == 0)
        {
            return $"{what}: no samples";
        }

        long[] v = [.. values.Order()];
        return string.Create(CultureInfo.InvariantCulture,
            $"{what}: n={v.Length} p50={v[v.Length / 2]} p90={v[v.Length * 9 / 10]} p99={v[Math.Min(v.Length - 1, v.Length * 99 / 100)]} max={v[^1]}");
    }
}

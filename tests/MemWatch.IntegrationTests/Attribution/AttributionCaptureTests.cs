using MemWatch.Probes.Attribution;

namespace MemWatch.IntegrationTests.Attribution;

/// <summary>Captures of processes that are not there, or go away: null (the CLI's "no such process"), nothing left open.</summary>
[Collection(AttributionCorpus.Collection)]
public sealed class AttributionCaptureTests
{
    [Fact]
    public async Task Run_ProcessExitsDuringTheCapture_ReturnsNullAndClosesItsEvents()
    {
        Workload w = AttributionCorpus.Start("paths");
        int pid = w.Pid;
        (int Fds, int Rings) before = PerfEventsOpenHere();
        Task<AttributionResult?> capture = Task.Run(() => AttributionCapture.Run(pid, TimeSpan.FromSeconds(60)));

        // The process exits once the capture has its events open (loading the target's CFI comes first and is slow under load).
        while (PerfEventsOpenHere().Fds == before.Fds && !capture.IsCompleted)
        {
            await Task.Delay(100);
        }

        Assert.False(capture.IsCompleted, "the capture ended before it opened its events");
        w.Dispose();
        Assert.Null(await capture);

        // Every event fd and ring of the capture is closed. Counted by kind, not as a total of open files: tests of
        // other collections run in this process at the same time and open pipes and files of their own.
        Assert.Equal(before, PerfEventsOpenHere());
    }

    [Fact]
    public void Run_NoSuchProcess_ReturnsNull()
    {
        Workload w = AttributionCorpus.Start("churn-only");
        int pid = w.Pid;
        w.Dispose();
        Thread.Sleep(200);
        Assert.Null(AttributionCapture.Run(pid, TimeSpan.FromSeconds(1)));
    }

    /// <summary>This process's perf event descriptors and the ring mappings made from them (captures run one at a time in this collection).</summary>
    private static (int Fds, int Rings) PerfEventsOpenHere()
    {
        const string perfEvent = "anon_inode:[perf_event]";
        int fds = 0;
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget == perfEvent)
                {
                    fds++;
                }
            }
            catch (IOException)
            {
                // Closed between the listing and the read.
            }
        }

        int rings = File.ReadLines("/proc/self/maps").Count(l => l.EndsWith(perfEvent, StringComparison.Ordinal));
        return (fds, rings);
    }
}

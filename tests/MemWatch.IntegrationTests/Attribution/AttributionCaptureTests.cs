using MemWatch.IntegrationTests.Support;
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
        int fdsBefore = Directory.GetFiles("/proc/self/fd").Length;
        Task<AttributionResult?> capture = Task.Run(() => AttributionCapture.Run(pid, TimeSpan.FromSeconds(4)));
        await Task.Delay(1500);
        w.Dispose();
        Assert.Null(await capture);

        // Every event fd and ring of the capture is closed (other tests may open files meanwhile: allow a few).
        Assert.True(Directory.GetFiles("/proc/self/fd").Length <= fdsBefore + 4);
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
}

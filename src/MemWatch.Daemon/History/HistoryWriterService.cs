using MemWatch.Daemon.Clocks;
using MemWatch.Daemon.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.History;

/// <summary>
/// Writes the <see cref="HistoryRecorder"/>'s batches every <see cref="FlushInterval"/> (audit entries at once) on its
/// own thread, runs <see cref="HistoryRetention.Maintain"/> every <see cref="MaintainInterval"/>, and on shutdown writes what
/// is left and closes the store (which checkpoints the WAL into the database). Registered first, so the host stops it last, after
/// the sampler and the remediator have stopped adding to the batches.
/// </summary>
internal sealed partial class HistoryWriterService : BackgroundService
{
    /// <summary>One transaction per this many seconds of ticks: fewer WAL writes than one per tick.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan MaintainInterval = TimeSpan.FromMinutes(5);

    private readonly HistoryRecorder _recorder;
    private readonly ILogger _log;
    private int _closed;

    public HistoryWriterService(HistoryRecorder recorder, ILogger<HistoryWriterService> log)
    {
        _recorder = recorder;
        _log = log;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Loop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Close();
    }

    public override void Dispose()
    {
        Close();
        base.Dispose();
    }

    private void Loop(CancellationToken stop)
    {
        // Maintenance runs on the store's clock, as retention does; the flush cadence is the I/O's, on real time.
        TimeProvider time = _recorder.Store.Time;
        long nextMaintain = time.MonotonicMilliseconds() + (long)MaintainInterval.TotalMilliseconds;
        WaitHandle[] wake = [stop.WaitHandle, _recorder.Urgent];
        while (WaitHandle.WaitAny(wake, FlushInterval) != 0)
        {
            _recorder.Flush();
            if (time.MonotonicMilliseconds() >= nextMaintain)
            {
                nextMaintain = time.MonotonicMilliseconds() + (long)MaintainInterval.TotalMilliseconds;
                Maintain();
            }
        }
    }

    private void Maintain()
    {
        TimeProvider time = _recorder.Store.Time;
        long start = time.GetTimestamp();
        try
        {
            HistoryMaintenance m = _recorder.Store.Retention.Maintain(time.GetUtcNow());
            _log.HistoryMaintained(time.GetElapsedTime(start).TotalMilliseconds, m.RowsToMinute + m.RowsToHour, m.SamplesExpired + m.SamplesPrunedForSize,
                m.BytesAfter / 1048576.0);
        }
        catch (HistoryStoreException e)
        {
            _log.HistoryMaintenanceFailed(e.Failure.ToString(), e.Message);
        }
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _recorder.Flush();
        _recorder.Store.Dispose();
        _log.HistoryClosed(_recorder.Store.DatabasePath);
    }
}

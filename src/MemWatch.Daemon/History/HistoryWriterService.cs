using System.Diagnostics;
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
        long nextMaintain = Environment.TickCount64 + (long)MaintainInterval.TotalMilliseconds;
        WaitHandle[] wake = [stop.WaitHandle, _recorder.Urgent];
        while (WaitHandle.WaitAny(wake, FlushInterval) != 0)
        {
            _recorder.Flush();
            if (Environment.TickCount64 >= nextMaintain)
            {
                nextMaintain = Environment.TickCount64 + (long)MaintainInterval.TotalMilliseconds;
                Maintain();
            }
        }
    }

    private void Maintain()
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            HistoryMaintenance m = _recorder.Store.Retention.Maintain(_recorder.Store.Time.GetUtcNow());
            LogMaintained(Stopwatch.GetElapsedTime(start).TotalMilliseconds, m.RowsToMinute + m.RowsToHour, m.SamplesExpired + m.SamplesPrunedForSize,
                m.BytesAfter / 1048576.0);
        }
        catch (HistoryStoreException e)
        {
            LogMaintainFailed(e.Failure, e.Message);
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
        LogClosed(_recorder.Store.DatabasePath);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "history maintenance took {Milliseconds:0} ms: {Folded} rows downsampled, {Deleted} deleted, {MiB:0.0} MiB in use")]
    private partial void LogMaintained(double milliseconds, long folded, long deleted, double mib);

    [LoggerMessage(Level = LogLevel.Error, Message = "history maintenance failed ({Failure}): {Message}")]
    private partial void LogMaintainFailed(HistoryFailure failure, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "history flushed and closed: {Path}")]
    private partial void LogClosed(string path);
}

using MemWatch.Daemon.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Sampling;

/// <summary>Runs <see cref="Sampler.Tick"/> every Sampling.Interval on its own thread (reads of /proc block).</summary>
public sealed partial class SamplerService : BackgroundService
{
    private readonly Sampler _sampler;
    private readonly TimeSpan _interval;
    private readonly DaemonHealth _health;
    private readonly ILogger _log;

    public SamplerService(Sampler sampler, Configuration.DaemonSettings settings, DaemonHealth health, ILogger<SamplerService> log)
    {
        _sampler = sampler;
        _interval = settings.Sampling.Interval;
        _health = health;
        _log = log;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Loop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Loop(CancellationToken stop)
    {
        long intervalMs = (long)_interval.TotalMilliseconds;
        long next = Environment.TickCount64;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                _sampler.Tick();
            }
            catch (Exception e)
            {
                // A bug in one tick must not end sampling: count it, log it, carry on.
                _health.CountError(SampleErrorReason.Internal);
                LogTickFailed(e);
            }

            next += intervalMs;
            long now = Environment.TickCount64;
            if (next <= now)
            {
                // Overran: skip the missed ticks rather than bursting to catch up.
                next = now + intervalMs;
            }

            stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(next - now));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "sampling tick failed")]
    private partial void LogTickFailed(Exception e);
}

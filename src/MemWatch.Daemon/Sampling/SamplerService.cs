using MemWatch.Daemon.Clocks;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Probes.Allocators;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// Runs <see cref="Sampler.Tick"/> every Sampling.Interval on its own thread (reads of /proc block), and trims the
/// daemon's own C heap after the first tick and then every <see cref="OwnTrimInterval"/>.
/// </summary>
internal sealed partial class SamplerService : BackgroundService
{
    private readonly Sampler _sampler;
    private readonly TimeSpan _interval;
    private readonly DaemonHealth _health;
    private readonly ILogger _log;
    private readonly TimeProvider _time;

    /// <summary>
    /// How often the daemon gives its own freed C heap back: start-up (JIT, type loading, SQLite) leaves about 5 MiB
    /// free in ptmalloc that nothing reuses; a trim of a heap this small takes well under a millisecond.
    /// </summary>
    public static readonly TimeSpan OwnTrimInterval = TimeSpan.FromMinutes(5);

    public SamplerService(Sampler sampler, Configuration.DaemonSettings settings, DaemonHealth health, ILogger<SamplerService> log, TimeProvider time)
    {
        _sampler = sampler;
        _interval = settings.Sampling.Interval;
        _health = health;
        _log = log;
        _time = time;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Loop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Loop(CancellationToken stop)
    {
        long intervalMs = (long)_interval.TotalMilliseconds;
        long next = _time.MonotonicMilliseconds();
        long nextTrim = 0;
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
                _log.TickFailed(e);
            }

            long now = _time.MonotonicMilliseconds();
            if (now >= nextTrim)
            {
                OwnGlibcHeap.TryTrim();
                nextTrim = now + (long)OwnTrimInterval.TotalMilliseconds;
            }

            next += intervalMs;
            if (next <= now)
            {
                // Overran: skip the missed ticks rather than bursting to catch up.
                next = now + intervalMs;
            }

            _time.Wait(TimeSpan.FromMilliseconds(next - now), stop);
        }
    }
}

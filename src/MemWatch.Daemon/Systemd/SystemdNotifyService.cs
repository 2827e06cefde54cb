using System.Net.Sockets;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Sampling;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Systemd;

/// <summary>
/// READY=1 once the listener is up and the first sample is taken; WATCHDOG=1 every half WATCHDOG_USEC while the sampler
/// keeps ticking (a wedged sampler stops the pings and systemd restarts the daemon); STOPPING=1 on shutdown. Sent
/// through Microsoft.Extensions.Hosting.Systemd's <see cref="ISystemdNotifier"/> (a no-op outside systemd); its
/// SystemdLifetime is not used, as it announces READY when the host starts, before the first sample.
/// </summary>
internal sealed partial class SystemdNotifyService : BackgroundService
{
    private readonly ISystemdNotifier _notifier;
    private readonly SystemdWatchdog _watchdog;
    private readonly TargetRegistry _registry;
    private readonly DaemonHealth _health;
    private readonly DaemonSettings _settings;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _log;
    private readonly TimeProvider _time;

    public SystemdNotifyService(
        ISystemdNotifier notifier, SystemdWatchdog watchdog, TargetRegistry registry, DaemonHealth health, DaemonSettings settings, IHostApplicationLifetime lifetime,
        ILogger<SystemdNotifyService> log, TimeProvider time)
    {
        _time = time;
        _notifier = notifier;
        _watchdog = watchdog;
        _registry = registry;
        _health = health;
        _settings = settings;
        _lifetime = lifetime;
        _log = log;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration _ = _lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        try
        {
            await Task.WhenAll(started.Task, _registry.FirstTick).WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Stopped before it was ready (e.g. the listener could not bind): nothing to announce.
            return;
        }

        string status = $"STATUS=watching {_registry.Count} processes, listening on {_settings.Listen}";
        Notify("READY=1\n" + status);
        _log.Ready(_registry.Count, _settings.Listen.ToString());

        if (_watchdog.Interval is not { } watchdog)
        {
            return;
        }

        TimeSpan every = watchdog / 2;
        double stalledMs = Math.Max(_settings.Sampling.Interval.TotalMilliseconds * 3, watchdog.TotalMilliseconds);
        using var timer = new PeriodicTimer(every, _time);
        do
        {
            long last = _health.LastSampleUnixMilliseconds;
            if (_time.GetUtcNow().ToUnixTimeMilliseconds() - last <= stalledMs)
            {
                Notify("WATCHDOG=1");
            }
        }
        while (await WaitTick(timer, stoppingToken));
    }

    private static async Task<bool> WaitTick(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        Notify("STOPPING=1");
        return base.StopAsync(cancellationToken);
    }

    private void Notify(string state)
    {
        if (!_notifier.IsEnabled)
        {
            return;
        }

        try
        {
            _notifier.Notify(new ServiceState(state));
        }
        catch (SocketException)
        {
            // The library connects for each message and throws when systemd went away: notifications are best effort.
        }
    }
}

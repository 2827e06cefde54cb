using MemWatch.Daemon.Clocks;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// Reads the GC counters of .NET targets into <see cref="TargetState.DotNet"/> every IntrospectInterval, off the
/// sampling thread: at most <see cref="MaxConcurrentReads"/> EventPipe sessions at once, each capped at
/// <see cref="ReadCap"/>, never two on one target.
/// </summary>
/// <remarks>
/// Only targets whose rule sets Introspect are read: a counter session is not passive (it costs the target about 37 ms
/// of CPU and some allocation, docs/dotnet.md), so the passive default watches .NET processes from /proc alone, and one
/// switch says "this daemon may ask the process itself". A target counts as .NET once its smaps show libcoreclr; its
/// diagnostic socket is looked for then and cached on the state (one pid and start time), and looked for again after a
/// read finds it unreachable.
/// </remarks>
internal sealed partial class DotNetCounterService : BackgroundService
{
    public const int MaxConcurrentReads = 2;

    public static readonly TimeSpan ReadCap = TimeSpan.FromSeconds(10);

    private readonly TargetRegistry _registry;
    private readonly DaemonSettings _settings;
    private readonly DaemonHealth _health;
    private readonly ILogger _log;
    private readonly ProcFileSystem _fs;
    private readonly TimeProvider _time;
    private readonly ManagedHeapReader _reader = new();
    private readonly SemaphoreSlim _slots = new(MaxConcurrentReads, MaxConcurrentReads);
    private readonly HashSet<TargetState> _inFlight = [];
    private readonly List<Task> _running = [];

    public DotNetCounterService(TargetRegistry registry, DaemonSettings settings, DaemonHealth health, ILogger<DotNetCounterService> log, ProcFileSystem fs, TimeProvider time)
    {
        _time = time;
        _fs = fs;
        _registry = registry;
        _settings = settings;
        _health = health;
        _log = log;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_settings.Rules.Any(r => r.Introspect))
        {
            return Task.CompletedTask;
        }

        return Task.Factory.StartNew(() => Loop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Loop(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (TargetState target in _registry.Snapshot())
            {
                if (IsDue(target) && _slots.Wait(0))
                {
                    Start(target);
                }
            }

            lock (_running)
            {
                _running.RemoveAll(t => t.IsCompleted);
            }

            _time.Wait(TimeSpan.FromMilliseconds(250), stop);
        }

        // Reads end by themselves within the cap; let them close their sessions before the host goes.
        Task[] left;
        lock (_running)
        {
            left = _running.ToArray();
        }

        Task.WaitAll(left, ReadCap + TimeSpan.FromSeconds(2));
    }

    private bool IsDue(TargetState target)
    {
        if (!target.Rule.Introspect || target.Exited || _time.MonotonicMilliseconds() < target.NextDotNetTicks)
        {
            return false;
        }

        lock (target.Sync)
        {
            if (target.Layout is not { DotNetRuntime: true })
            {
                return false;
            }
        }

        lock (_inFlight)
        {
            return !_inFlight.Contains(target);
        }
    }

    private void Start(TargetState target)
    {
        target.NextDotNetTicks = _time.MonotonicMilliseconds() + (long)_settings.Sampling.IntrospectInterval.TotalMilliseconds;
        lock (_inFlight)
        {
            _inFlight.Add(target);
        }

        Task task = Task.Factory.StartNew(() =>
        {
            try
            {
                Read(target);
            }
            catch (Exception e)
            {
                _health.CountError(SampleErrorReason.Internal);
                _log.DotNetCounterReadFailed(target.Pid, e);
            }
            finally
            {
                lock (_inFlight)
                {
                    _inFlight.Remove(target);
                }

                _slots.Release();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        lock (_running)
        {
            _running.Add(task);
        }
    }

    private void Read(TargetState target)
    {
        DiagnosticEndpoint? endpoint;
        lock (target.Sync)
        {
            endpoint = target.DotNetEndpoint;
        }

        try
        {
            if (endpoint is null)
            {
                if (!new DiagnosticEndpointLocator(_fs).TryLocate(target.Pid, out endpoint))
                {
                    // libcoreclr without a socket: DOTNET_EnableDiagnostics=0, or the runtime has not bound it yet.
                    Forget(target, endpoint: false);
                    return;
                }

                lock (target.Sync)
                {
                    target.DotNetEndpoint = endpoint;
                }
            }

            long start = _time.GetTimestamp();
            ManagedHeapFigures figures = _reader.Read(endpoint, ReadCap);
            var reading = new DotNetReading(_time.GetUtcNow().ToUnixTimeMilliseconds(), endpoint, figures, _time.GetElapsedTime(start).TotalSeconds);
            lock (target.Sync)
            {
                target.RememberDotNet(reading);
            }

            _log.DotNetCountersRead(target.Pid, target.Comm, figures.GcHeapBytes, reading.ReadSeconds * 1000);
        }
        catch (UnauthorizedAccessException e)
        {
            _health.CountError(SampleErrorReason.PermissionDenied);
            _log.DotNetCountersNotRead(target.Pid, target.Comm, "permission-denied", e.Message);
            Forget(target, endpoint: true);
        }
        catch (DotNetDiagnosticsException e)
        {
            if (target.Exited || !Directory.Exists(_fs.ProcessDirectory(target.Pid)))
            {
                return;
            }

            _health.CountError(e.Reason == DotNetDiagnosticsFailure.PermissionDenied ? SampleErrorReason.PermissionDenied : SampleErrorReason.IntrospectionFailed);
            _log.DotNetCountersNotRead(target.Pid, target.Comm, e.Reason.ToString(), e.Message);

            // Look for the socket afresh next time; stale figures go rather than linger as if current.
            Forget(target, endpoint: e.Reason == DotNetDiagnosticsFailure.Unreachable);
        }
    }

    private void Forget(TargetState target, bool endpoint)
    {
        long staleAfter = (long)(_settings.Sampling.IntrospectInterval.TotalMilliseconds * 3);
        lock (target.Sync)
        {
            if (endpoint)
            {
                target.DotNetEndpoint = null;
            }

            if (target.DotNet is { } old && _time.GetUtcNow().ToUnixTimeMilliseconds() - old.UnixMilliseconds > staleAfter)
            {
                target.DotNet = null;
            }
        }
    }
}

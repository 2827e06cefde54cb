using MemWatch.Daemon.Attribution;
using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Http;
using MemWatch.Daemon.Kubernetes;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Remediation;
using MemWatch.Daemon.Sampling;
using MemWatch.Daemon.Systemd;
using MemWatch.Probes.ProcFs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Hosting.Systemd;
using Serilog;

namespace MemWatch.Daemon.Hosting;

/// <summary>
/// Composes the daemon: Kestrel on the configured endpoint (no other server features), the sampler, remediator and
/// sd_notify services (through Microsoft.Extensions.Hosting.Systemd's notifier), Serilog through its hosting
/// integration, and the single request handler. The seams for the history store (<see cref="ISampleSink"/>,
/// <see cref="IRemediationAuditSink"/>) are registered with no-op defaults that a caller replaces through the
/// <c>configure</c> argument of <see cref="Build"/>.
/// </summary>
internal static class DaemonHost
{
    public static WebApplication Build(DaemonSettings settings, Serilog.ILogger logger, Action<IServiceCollection>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "memwatch",
        });

        builder.WebHost.UseKestrelCore();
        var connections = new ConnectionLimiter();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(settings.Listen, listen =>
            {
                // Per-network connection shares first, so that a flood of connections is cut before TLS or HTTP.
                listen.Use(connections.Wrap);
                if (settings.Certificate is { } certificate)
                {
                    listen.UseHttps(certificate);
                }
            });

            // Hostile clients: small requests only, and slow ones are cut off.
            KestrelServerLimits limits = kestrel.Limits;
            limits.MaxRequestBodySize = ApiHandler.MaxRequestBodyBytes;
            limits.MaxRequestHeadersTotalSize = 16 * 1024;
            limits.MaxRequestHeaderCount = 50;
            limits.MaxRequestLineSize = 4096;
            limits.MaxConcurrentConnections = ConnectionLimiter.Total;
            limits.MaxConcurrentUpgradedConnections = 0;
            limits.RequestHeadersTimeout = TimeSpan.FromSeconds(5);
            limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
            limits.Http2.MaxStreamsPerConnection = 16;
        });

        IServiceCollection services = builder.Services;

        // Serilog's hosting integration: its logger factory replaces Microsoft's, so levels are Serilog's alone.
        services.AddSerilog(logger, dispose: false);
        services.TryAddSingleton<IHostLifetime, ConsoleLifetime>();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(connections);
        // The tree the daemon watches: the host's /proc and /sys, or a fixture (Sampling.ProcRoot, Sampling.SysRoot).
        services.AddSingleton(new ProcFileSystem(settings.Sampling.ProcRoot, settings.Sampling.SysRoot));
        services.AddSingleton<TargetRegistry>();
        services.AddSingleton<DaemonHealth>();
        services.AddSingleton<ISampleSink, NullSampleSink>();
        services.AddSingleton<IRemediationAuditSink, NullRemediationAuditSink>();
        services.AddSingleton<TargetAnalyzer>();
        services.AddSingleton(settings.Kubernetes is { PodName: { Length: > 0 } pod, PodNamespace: { Length: > 0 } ns }
            ? new PodDirectory(pod, ns)
            : new PodDirectory());
        services.AddSingleton<Sampler>();
        services.AddSingleton<AllocatorActions>(sp => new AllocatorActions(
            sp.GetRequiredService<DaemonHealth>(), sp.GetRequiredService<IRemediationAuditSink>(), sp.GetRequiredService<ILogger<AllocatorActions>>(),
            sp.GetRequiredService<ProcFileSystem>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<DotNetActions>();
        // The daemon's own process_* series read the real /proc, whatever tree it watches.
        services.AddSingleton(sp => new MetricsRenderer(sp.GetRequiredService<TargetRegistry>(), sp.GetRequiredService<DaemonHealth>(), ProcFileSystem.Default));
        services.AddSingleton(new BearerAuthenticator(settings.Token));
        services.AddSingleton<AttributionService>();
        services.AddHostedService(sp => sp.GetRequiredService<AttributionService>());
        services.AddSingleton<AuthGate>();
        services.AddSingleton<ApiHandler>();
        services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.AddSingleton(_ => SystemdWatchdog.FromEnvironment());
        services.AddHostedService<SamplerService>();
        services.AddHostedService<RemediatorService>();
        services.AddHostedService<DotNetCounterService>();
        services.AddHostedService<SystemdNotifyService>();
        if (settings.Kubernetes.NodeName is { Length: > 0 })
        {
            services.AddHostedService<PodWatchService>();
        }
        configure?.Invoke(services);

        WebApplication app = builder.Build();
        ApiHandler handler = app.Services.GetRequiredService<ApiHandler>();
        app.Run(handler.HandleAsync);
        return app;
    }
}

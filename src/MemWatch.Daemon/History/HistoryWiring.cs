using MemWatch.Daemon.Remediation;
using MemWatch.Daemon.Sampling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MemWatch.Daemon.History;

/// <summary>Plugs an open <see cref="HistoryStore"/> into the daemon's seams (pass it as DaemonHost.Build's configure).</summary>
internal static class HistoryWiring
{
    public static void AddHistory(IServiceCollection services, HistoryStore store)
    {
        services.AddSingleton(store);
        services.AddSingleton<HistoryRecorder>();
        services.AddSingleton<ISampleSink>(sp => sp.GetRequiredService<HistoryRecorder>());
        services.AddSingleton<IRemediationAuditSink>(sp => sp.GetRequiredService<HistoryRecorder>());

        // First in, last out: the host stops hosted services in reverse order, so the writer's final flush comes after
        // the sampler and the remediator have stopped.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, HistoryWriterService>());
    }
}

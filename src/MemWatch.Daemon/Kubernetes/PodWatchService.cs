using System.Text.Json;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>
/// DaemonSet mode: keeps <see cref="PodDirectory"/> filled with the pods of this node (list, then watch from the
/// list's resource version; list again when the watch says 410 Gone). It runs beside sampling and never holds it up:
/// the sampler only looks pods up in the directory, so an API server that is missing, refuses, or hangs leaves the
/// labels <c>pod</c>, <c>namespace</c> and <c>container</c> empty, logged, retried with a growing delay up to a minute.
/// </summary>
internal sealed partial class PodWatchService : BackgroundService
{
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromMinutes(1);

    private readonly PodDirectory _pods;
    private readonly string _node;
    private readonly Uri? _server;
    private readonly KubernetesOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;

    public PodWatchService(PodDirectory pods, DaemonSettings settings, ILogger<PodWatchService> log, TimeProvider time)
    {
        _time = time;
        _pods = pods;
        _options = settings.Kubernetes;
        _node = _options.NodeName ?? "";
        _server = _options.ApiServer is { } s ? new Uri(s) : KubernetesApiClient.InCluster();
        _log = log;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_node.Length == 0)
        {
            return;
        }

        if (_server is null)
        {
            _log.KubernetesNoApiServer(_node);
            return;
        }

        // Off the host's start-up path: the first request may take as long as the API server lets it.
        await Task.Yield();
        using var client = new KubernetesApiClient(_server, _options.TokenFile, _options.CaFile);
        TimeSpan delay = TimeSpan.FromSeconds(1);
        int failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                KubePodList list = await client.ListPodsAsync(_node, stoppingToken).ConfigureAwait(false);
                _pods.Replace((list.Items ?? []).Select(ToInfo).OfType<PodInfo>());
                _log.KubernetesPodsListed(_pods.Count, _node, _server);
                failures = 0;
                delay = TimeSpan.FromSeconds(1);
                string version = list.Metadata?.ResourceVersion ?? "";
                while (!stoppingToken.IsCancellationRequested)
                {
                    version = await WatchAsync(client, version, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KubernetesApiException
                or OperationCanceledException or UnauthorizedAccessException or FormatException)
            {
                // The API server is unreachable, slow (our own timeout), refuses us (RBAC), or the watch's version is
                // gone (410): list again after a pause. Sampling carries on meanwhile.
                if (e is not KubernetesApiException { Status: 410 } && failures++ % 10 == 0)
                {
                    _log.KubernetesPodsUnavailable(_node, e.GetType().Name, e.Message.ReplaceLineEndings(" "), delay.TotalSeconds);
                }

                try
                {
                    await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxDelay.Ticks));
            }
        }
    }

    /// <summary>Applies one watch's events; returns the resource version to watch on from.</summary>
    private async Task<string> WatchAsync(KubernetesApiClient client, string version, CancellationToken stoppingToken)
    {
        await foreach (KubeWatchEvent e in client.WatchPodsAsync(_node, version, stoppingToken).ConfigureAwait(false))
        {
            if (e.Type == "ERROR")
            {
                KubeStatus? status = e.Object.Deserialize(KubernetesJsonContext.Default.KubeStatus);
                throw new KubernetesApiException(status?.Code ?? 0, $"watch error {status?.Code}: {status?.Message}");
            }

            KubePod? pod = e.Object.ValueKind == JsonValueKind.Object ? e.Object.Deserialize(KubernetesJsonContext.Default.KubePod) : null;
            version = pod?.Metadata?.ResourceVersion is { Length: > 0 } v ? v : version;
            if (pod is null || e.Type == "BOOKMARK" || ToInfo(pod) is not { } info)
            {
                continue;
            }

            if (e.Type == "DELETED")
            {
                _pods.Remove(info.Uid);
            }
            else
            {
                _pods.Set(info);
            }
        }

        return version;
    }

    private static PodInfo? ToInfo(KubePod pod)
    {
        if (pod.Metadata is not { Uid: { Length: > 0 } uid, Name: { } name } meta)
        {
            return null;
        }

        var containers = new Dictionary<string, string>(StringComparer.Ordinal);
        KubePodStatus? status = pod.Status;
        foreach (KubeContainerStatus c in (status?.ContainerStatuses ?? []).Concat(status?.InitContainerStatuses ?? []).Concat(status?.EphemeralContainerStatuses ?? []))
        {
            if (c is { Name: { } containerName, ContainerId: { Length: > 0 } id })
            {
                int scheme = id.IndexOf("://", StringComparison.Ordinal);
                containers[scheme < 0 ? id : id[(scheme + 3)..]] = containerName;
            }
        }

        return new PodInfo(uid, name, meta.Namespace ?? "", containers);
    }
}

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Where pod names come from. DaemonSet mode: <see cref="NodeName"/> (the downward API's <c>spec.nodeName</c>) makes the
/// daemon watch the pods of its node through the Kubernetes API. Sidecar mode: <see cref="PodName"/> and
/// <see cref="PodNamespace"/> (the downward API's <c>metadata.name</c> and <c>metadata.namespace</c>) name the one pod
/// every watched process belongs to. Neither: <c>pod</c> and <c>namespace</c> stay empty.
/// </summary>
internal sealed class KubernetesOptions
{
    public string? NodeName { get; set; }

    public string? PodName { get; set; }

    public string? PodNamespace { get; set; }

    /// <summary>The API server's URL; null for the in-cluster one (<c>https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT</c>).</summary>
    public string? ApiServer { get; set; }

    /// <summary>The service account token, re-read at every request (projected tokens rotate).</summary>
    public string TokenFile { get; set; } = "/var/run/secrets/kubernetes.io/serviceaccount/token";

    /// <summary>The CA bundle the API server's certificate must chain to.</summary>
    public string CaFile { get; set; } = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
}

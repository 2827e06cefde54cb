namespace MemWatch.Daemon.Kubernetes;

/// <summary>The API server answered with an error status, or a watch ended with an ERROR event.</summary>
internal sealed class KubernetesApiException(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status (or the Status object's code): 410 means the resource version is gone; list again.</summary>
    public int Status { get; } = status;
}

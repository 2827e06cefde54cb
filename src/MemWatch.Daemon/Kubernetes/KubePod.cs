using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>The fields of a core/v1 Pod the daemon reads.</summary>
internal sealed class KubePod
{
    [JsonPropertyName("metadata")]
    public KubeObjectMeta? Metadata { get; set; }

    [JsonPropertyName("status")]
    public KubePodStatus? Status { get; set; }
}

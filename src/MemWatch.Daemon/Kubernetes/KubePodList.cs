using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>core/v1 PodList.</summary>
internal sealed class KubePodList
{
    [JsonPropertyName("metadata")]
    public KubeObjectMeta? Metadata { get; set; }

    [JsonPropertyName("items")]
    public List<KubePod>? Items { get; set; }
}

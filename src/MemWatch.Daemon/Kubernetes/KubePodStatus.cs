using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>The container statuses of a core/v1 PodStatus: they map container ids to names.</summary>
internal sealed class KubePodStatus
{
    [JsonPropertyName("containerStatuses")]
    public List<KubeContainerStatus>? ContainerStatuses { get; set; }

    [JsonPropertyName("initContainerStatuses")]
    public List<KubeContainerStatus>? InitContainerStatuses { get; set; }

    [JsonPropertyName("ephemeralContainerStatuses")]
    public List<KubeContainerStatus>? EphemeralContainerStatuses { get; set; }
}

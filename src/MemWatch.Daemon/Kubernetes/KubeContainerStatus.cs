using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>core/v1 ContainerStatus: <c>containerID</c> is <c>containerd://ID</c>, <c>cri-o://ID</c> or <c>docker://ID</c>.</summary>
internal sealed class KubeContainerStatus
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("containerID")]
    public string? ContainerId { get; set; }
}

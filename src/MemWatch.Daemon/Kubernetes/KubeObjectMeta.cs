using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>The fields of meta/v1 ObjectMeta (and ListMeta: resourceVersion) the daemon reads.</summary>
internal sealed class KubeObjectMeta
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }

    [JsonPropertyName("uid")]
    public string? Uid { get; set; }

    [JsonPropertyName("resourceVersion")]
    public string? ResourceVersion { get; set; }
}

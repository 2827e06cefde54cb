using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>meta/v1 Status, as an error body or a watch ERROR event's object.</summary>
internal sealed class KubeStatus
{
    [JsonPropertyName("code")]
    public int Code { get; set; }

    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>
/// meta/v1 WatchEvent, one JSON object per line of a watch response: <c>type</c> ADDED, MODIFIED, DELETED, BOOKMARK
/// (only <c>metadata.resourceVersion</c> is meaningful) or ERROR (<c>object</c> is a Status, 410 when the
/// resource version is too old).
/// </summary>
internal sealed class KubeWatchEvent
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("object")]
    public JsonElement Object { get; set; }
}

using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Kubernetes;

[JsonSerializable(typeof(KubePod))]
[JsonSerializable(typeof(KubePodList))]
[JsonSerializable(typeof(KubeWatchEvent))]
[JsonSerializable(typeof(KubeStatus))]
internal sealed partial class KubernetesJsonContext : JsonSerializerContext;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>A pod as the daemon names processes by it.</summary>
/// <param name="Containers">Container name by container id (the id without its <c>runtime://</c> scheme).</param>
internal sealed record PodInfo(string Uid, string Name, string Namespace, IReadOnlyDictionary<string, string> Containers);

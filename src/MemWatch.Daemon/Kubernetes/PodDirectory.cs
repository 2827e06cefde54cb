using System.Collections.Concurrent;
using MemWatch.Daemon.Sampling;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>
/// The pods the daemon knows, by UID: filled by <see cref="PodWatchService"/> (DaemonSet mode) or fixed to the one pod
/// of the downward API (sidecar mode); read by the sampler, which never waits for it.
/// </summary>
internal sealed class PodDirectory
{
    private readonly ConcurrentDictionary<string, PodInfo> _pods = new(StringComparer.Ordinal);
    private readonly PodInfo? _only;

    /// <summary>A directory the API fills.</summary>
    public PodDirectory()
    {
    }

    /// <summary>Sidecar mode: every process is in this pod.</summary>
    public PodDirectory(string name, string @namespace)
    {
        _only = new PodInfo("", name, @namespace, new Dictionary<string, string>());
    }

    /// <summary>No pod names at all.</summary>
    public static PodDirectory None { get; } = new();

    public int Count => _pods.Count;

    /// <summary>The identity with its pod's name, namespace and container name, when the pod is known.</summary>
    public TargetIdentity Name(TargetIdentity identity)
    {
        if (_only is not null)
        {
            return identity.WithPod(_only.Name, _only.Namespace, "");
        }

        if (identity.PodUid.Length == 0 || !_pods.TryGetValue(identity.PodUid, out PodInfo? pod))
        {
            return identity;
        }

        string id = identity.ContainerId;
        int scheme = id.IndexOf("://", StringComparison.Ordinal);
        string container = pod.Containers.GetValueOrDefault(scheme < 0 ? id : id[(scheme + 3)..], "");
        return identity.WithPod(pod.Name, pod.Namespace, container);
    }

    public void Set(PodInfo pod) => _pods[pod.Uid] = pod;

    public void Remove(string uid) => _pods.TryRemove(uid, out _);

    /// <summary>Replaces every pod (after a list).</summary>
    public void Replace(IEnumerable<PodInfo> pods)
    {
        var fresh = pods.ToDictionary(p => p.Uid, StringComparer.Ordinal);
        foreach (string uid in _pods.Keys)
        {
            if (!fresh.ContainsKey(uid))
            {
                _pods.TryRemove(uid, out _);
            }
        }

        foreach (PodInfo p in fresh.Values)
        {
            _pods[p.Uid] = p;
        }
    }
}

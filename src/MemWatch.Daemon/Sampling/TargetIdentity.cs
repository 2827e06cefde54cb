namespace MemWatch.Daemon.Sampling;

/// <summary>
/// Where a process runs, from its cgroup path: the systemd unit, the container id, and under a kubelet's
/// <c>kubepods</c> tree the pod's UID. Pod name, namespace and container name are not in the path: they come from
/// the Kubernetes API or the downward API (<see cref="WithPod"/>), else stay empty (the contract's "unknown").
/// </summary>
/// <param name="ContainerId">
/// As kube-state-metrics writes it in <c>kube_pod_container_info</c>: <c>containerd://ID</c>, <c>cri-o://ID</c>,
/// <c>docker://ID</c>; a bare ID where the path does not say which runtime made it.
/// </param>
internal sealed record TargetIdentity(string CgroupPath, string Unit, string ContainerId, string Pod, string Namespace)
{
    public static TargetIdentity Unknown { get; } = new("", "", "", "", "");

    /// <summary>The pod's UID (<c>metadata.uid</c>, with dashes) when the path is under a kubelet's kubepods tree.</summary>
    public string PodUid { get; init; } = "";

    /// <summary>The container's name in its pod, when known.</summary>
    public string Container { get; init; } = "";

    public static TargetIdentity FromCgroupPath(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return Unknown;
        }

        string unit = "";
        string container = "";
        string podUid = "";
        bool kubepods = false;
        foreach (string segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            kubepods |= segment.StartsWith("kubepods", StringComparison.Ordinal);
            string? id = ContainerIdOf(segment, out string runtime);
            if (id is not null)
            {
                // A bare id under kubepods is the cgroupfs driver's: containerd names its cgroups so (CRI-O writes
                // crio-ID, and dockershim is gone from Kubernetes since 1.24).
                container = runtime.Length > 0 ? runtime + "://" + id : kubepods ? "containerd://" + id : id;
                continue;
            }

            if (kubepods && PodUidOf(segment) is { } uid)
            {
                podUid = uid;
                continue;
            }

            if (segment.EndsWith(".service", StringComparison.Ordinal) || segment.EndsWith(".scope", StringComparison.Ordinal))
            {
                // The innermost unit wins (a service inside a user slice's manager).
                unit = segment;
            }
        }

        return new TargetIdentity(path, unit, container, "", "") { PodUid = podUid };
    }

    /// <summary>This identity with the pod's name and namespace and the container's name (empty ones leave it as is).</summary>
    public TargetIdentity WithPod(string pod, string @namespace, string container) => this with
    {
        Pod = pod.Length > 0 ? pod : Pod,
        Namespace = @namespace.Length > 0 ? @namespace : Namespace,
        Container = container.Length > 0 ? container : Container,
    };

    /// <summary>
    /// cgroupfs driver: <c>pod1f0c2d3e-...</c>; systemd driver: <c>kubepods-burstable-pod1f0c2d3e_....slice</c>
    /// (guaranteed pods: <c>kubepods-pod..._.slice</c>), the UID's dashes written as underscores.
    /// </summary>
    private static string? PodUidOf(string segment)
    {
        ReadOnlySpan<char> s = segment;
        if (s.EndsWith(".slice"))
        {
            s = s[..^6];
            int at = s.LastIndexOf("-pod");
            if (at < 0)
            {
                return null;
            }

            s = s[(at + 4)..];
        }
        else if (s.StartsWith("pod"))
        {
            s = s[3..];
        }
        else
        {
            return null;
        }

        string uid = s.ToString().Replace('_', '-');
        return Guid.TryParseExact(uid, "D", out _) ? uid : null;
    }

    /// <summary>docker-ID.scope, cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope, crio-ID, or a bare 64-hex segment.</summary>
    private static string? ContainerIdOf(string segment, out string runtime)
    {
        runtime = "";
        ReadOnlySpan<char> s = segment;
        if (s.EndsWith(".scope"))
        {
            s = s[..^6];
        }

        int dash = s.LastIndexOf('-');
        if (dash >= 0)
        {
            runtime = s[..dash] switch
            {
                "cri-containerd" => "containerd",
                "crio" => "cri-o",
                "docker" => "docker",
                _ => "",
            };
            if (runtime.Length == 0 && !segment.EndsWith(".scope", StringComparison.Ordinal))
            {
                return null;
            }

            s = s[(dash + 1)..];
        }

        if (s.Length == 64 && IsHex(s))
        {
            return s.ToString();
        }

        runtime = "";
        return null;
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }
}

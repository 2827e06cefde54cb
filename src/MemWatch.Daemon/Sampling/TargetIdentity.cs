namespace MemWatch.Daemon.Sampling;

/// <summary>
/// Where a process runs, from its cgroup path: the systemd unit and the container id when the path names them.
/// Pod and namespace need the Kubernetes API, which the daemon does not call: they stay empty (the contract's "unknown").
/// </summary>
public sealed record TargetIdentity(string CgroupPath, string Unit, string ContainerId, string Pod, string Namespace)
{
    public static TargetIdentity Unknown { get; } = new("", "", "", "", "");

    public static TargetIdentity FromCgroupPath(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return Unknown;
        }

        string unit = "";
        string container = "";
        foreach (string segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string? id = ContainerIdOf(segment);
            if (id is not null)
            {
                container = id;
                continue;
            }

            if (segment.EndsWith(".service", StringComparison.Ordinal) || segment.EndsWith(".scope", StringComparison.Ordinal))
            {
                // The innermost unit wins (a service inside a user slice's manager).
                unit = segment;
            }
        }

        return new TargetIdentity(path, unit, container, "", "");
    }

    /// <summary>docker-ID.scope, cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope, or a bare 64-hex segment.</summary>
    private static string? ContainerIdOf(string segment)
    {
        ReadOnlySpan<char> s = segment;
        if (s.EndsWith(".scope"))
        {
            s = s[..^6];
            int dash = s.LastIndexOf('-');
            if (dash < 0)
            {
                return null;
            }

            s = s[(dash + 1)..];
        }

        return s.Length == 64 && IsHex(s) ? s.ToString() : null;
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

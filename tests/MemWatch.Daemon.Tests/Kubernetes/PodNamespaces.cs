namespace MemWatch.Daemon.Tests.Kubernetes;

/// <summary>
/// Runs a command as a container runtime runs a pod's container: moved into its container cgroup, then in mount and
/// cgroup namespaces of its own (the container cgroup becomes its cgroup namespace root), with <c>/sys/fs/cgroup</c>
/// replaced by a tmpfs holding a fresh memory hierarchy mount that shows only that cgroup, and — when
/// <c>hostCgroupRoot</c> is given — the host's whole <c>/sys/fs/cgroup</c> bound at it first, as the chart's hostPath
/// volume does. <c>unshare</c> execs the command in place, so the started process's PID is the command's.
/// </summary>
internal static class PodNamespaces
{
    /// <summary>The command prefix; the script is written to <paramref name="script"/>.</summary>
    public static IReadOnlyList<string> Prefix(string script, string containerCgroup, string? hostCgroupRoot)
    {
        File.WriteAllText(script, """
            #!/bin/sh
            # in-pod.sh CGROUP HOSTROOT COMMAND...: HOSTROOT "" binds no host tree.
            set -e
            echo $$ > "$1/cgroup.procs"
            host="$2"
            shift 2
            exec unshare --mount --cgroup --propagation private sh -c '
              set -e
              host="$1"; shift
              if [ -n "$host" ]; then mkdir -p "$host"; mount --rbind /sys/fs/cgroup "$host"; fi
              mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
              mkdir /sys/fs/cgroup/memory
              mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory
              exec "$@"' sh "$host" "$@"
            """.ReplaceLineEndings("\n"));
        return ["sh", script, containerCgroup, hostCgroupRoot ?? ""];
    }
}

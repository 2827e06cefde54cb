using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Cgroups;

/// <summary>
/// Finds the names of the cgroups above the reader's cgroup namespace root, which the kernel never prints (it writes
/// <c>..</c> for them): in a mount that shows the cgroup <c>levels</c> above the namespace root (a host's
/// <c>/sys/fs/cgroup</c> bound into a container), the reader's own cgroup is the one directory, <c>levels</c> deep
/// plus the reader's own path below its namespace root, whose <c>cgroup.procs</c> lists the reader.
/// </summary>
/// <remarks>
/// cgroup.procs lists PIDs as the opener's PID namespace numbers them, so the reader's own PID is what it looks for
/// whatever its PID namespace. A kubelet's tree is four or five levels deep with a few directories per pod; the walk
/// is bounded all the same, and done once per hierarchy.
/// </remarks>
public static class CgroupNamespaceAnchor
{
    private const int MaxDirectories = 100_000;

    /// <param name="mountDirectory">The mount's directory (its root is <paramref name="levels"/> levels above).</param>
    /// <param name="levels">How many levels the mount's root is above the namespace root.</param>
    /// <param name="self">The reader's own cgroup path in that hierarchy, as it sees it (normally <c>/</c>).</param>
    /// <param name="selfPid">The reader's PID in its own PID namespace.</param>
    /// <param name="buffer">Scratch buffer for cgroup.procs.</param>
    /// <returns>The names of the <paramref name="levels"/> cgroups, outermost first; null when not found.</returns>
    public static IReadOnlyList<string>? Find(string mountDirectory, int levels, NamespacedCgroupPath self, int selfPid, FileBuffer buffer)
    {
        if (self.Ups > 0 || levels <= 0)
        {
            return null;
        }

        int visited = 0;
        var level = new List<string> { mountDirectory };
        for (int depth = 0; depth < levels; depth++)
        {
            var next = new List<string>();
            foreach (string dir in level)
            {
                IEnumerable<string> children;
                try
                {
                    children = Directory.EnumerateDirectories(dir);
                    foreach (string child in children)
                    {
                        next.Add(child);
                        if (++visited > MaxDirectories)
                        {
                            return null;
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A cgroup removed while walking, or a subtree the reader may not list: not where it is.
                }
            }

            level = next;
        }

        foreach (string dir in level)
        {
            try
            {
                if (CgroupProcs.TryRead(dir + self.Below, buffer, out CgroupProcs? procs) && procs.Pids.Contains(selfPid))
                {
                    return dir[mountDirectory.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
                }
            }
            catch (Exception e) when (e is ProcParseException or IOException or UnauthorizedAccessException)
            {
                // An unreadable or malformed cgroup.procs is not the reader's.
            }
        }

        return null;
    }
}

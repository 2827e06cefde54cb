namespace MemWatch.Probes.Cgroups;

/// <summary>
/// A cgroup path as the kernel prints it to a reader (<c>/proc/PID/cgroup</c>, the root field of mountinfo):
/// relative to the reader's cgroup namespace root, with leading <c>..</c> components for cgroups above it
/// (<c>/../../burstable/pod1/ctr</c> seen from inside another pod's namespace).
/// </summary>
/// <param name="Ups">How many levels above the namespace root the path first climbs.</param>
/// <param name="Below">The components after the climb, <c>/a/b</c>, or empty for the climbed-to cgroup itself.</param>
public readonly record struct NamespacedCgroupPath(int Ups, string Below)
{
    /// <summary>Null when the path is not absolute or has <c>..</c> after a name (the kernel never prints that).</summary>
    public static NamespacedCgroupPath? Parse(string path)
    {
        if (!path.StartsWith('/'))
        {
            return null;
        }

        int ups = 0;
        int i = 1;
        while (i < path.Length && path.AsSpan(i).StartsWith("..") && (path.Length == i + 2 || path[i + 2] == '/'))
        {
            ups++;
            i += 3;
        }

        string below = i >= path.Length ? "" : "/" + path[i..].TrimEnd('/');
        if (below == "/")
        {
            below = "";
        }

        foreach (Range r in below.AsSpan().Split('/'))
        {
            if (below.AsSpan()[r] is ".." or ".")
            {
                return null;
            }
        }

        return new NamespacedCgroupPath(ups, below);
    }

    /// <summary>
    /// The path from an anchor <paramref name="anchor"/>.Length levels above the namespace root, given the names of
    /// those levels (outermost first); null when the path climbs above the anchor.
    /// </summary>
    public string? FromAnchor(IReadOnlyList<string> anchor)
    {
        if (Ups > anchor.Count)
        {
            return null;
        }

        int kept = anchor.Count - Ups;
        return kept == 0 ? Below : "/" + string.Join('/', anchor.Take(kept)) + Below;
    }
}

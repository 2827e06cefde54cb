using MemWatch.Probes.Parsing;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Cgroups;

/// <summary>
/// Finds the memory cgroup of a process: its <c>/proc/PID/cgroup</c> entry (cgroups(7)) mapped onto the cgroup
/// mounts the calling process sees in its own <c>/proc/self/mountinfo</c> (proc_pid_mountinfo(5)).
/// </summary>
/// <remarks>
/// <para>v1 and hybrid: when a v1 hierarchy carries the <c>memory</c> controller that hierarchy is used, even if
/// cgroup2 is mounted too (systemd's hybrid layout). Pure v2: the <c>0::/path</c> entry, provided <c>memory</c> is
/// listed in the <c>cgroup.controllers</c> of the cgroup2 mount.</para>
/// <para>Containers: paths in <c>/proc/PID/cgroup</c> and a cgroupfs mount's <c>root</c> field are both relative to the
/// reader's cgroup namespace, with <c>..</c> for levels above its root (<see cref="NamespacedCgroupPath"/>). A
/// container without its own namespace sees <c>root=/kubepods/.../&lt;id&gt;</c> mounted at <c>/sys/fs/cgroup/memory</c>;
/// one with its own namespace sees another pod's cgroup as <c>/../../burstable/pod.../&lt;id&gt;</c> and the host's
/// tree, bound in at the host cgroup root (<c>/host/sys/fs/cgroup</c> in the chart), as <c>root=/../../..</c>. The
/// names of the levels above the namespace root, needed to place the one in the other, are found once by
/// <see cref="CgroupNamespaceAnchor"/>. The mount whose root is the longest prefix of the path is chosen and the rest
/// of the path is appended to its mount point. A path outside every visible mount is not resolvable from here.</para>
/// <para>Mounts are read once, on first use; create a new resolver to see new mounts.</para>
/// </remarks>
public sealed class CgroupResolver
{
    private readonly ProcFileSystem _fs;
    private readonly string _filesystemRoot;
    private readonly string? _hostRoot;
    private readonly int _selfPid;
    private readonly Dictionary<bool, IReadOnlyList<string>?> _anchors = [];
    private MountInfo? _mounts;

    /// <param name="fs">The proc filesystem: <c>/proc/PID/cgroup</c> and <c>self/mountinfo</c> are read through it.</param>
    /// <param name="filesystemRoot">Prefix for the mount points of mountinfo (default <c>/</c>; a fixture tree in tests).</param>
    /// <param name="mounts">The reader's mounts; null to read <c>self/mountinfo</c> on first use.</param>
    /// <param name="hostRoot">
    /// Where the host's cgroup tree is mounted (<c>/host/sys/fs/cgroup</c>): only cgroup mounts at or below it are
    /// used. Null uses every cgroup mount this process sees.
    /// </param>
    /// <param name="selfPid">This process's PID (tests give a fixture's); null for <see cref="Environment.ProcessId"/>.</param>
    public CgroupResolver(ProcFileSystem fs, string filesystemRoot = "/", MountInfo? mounts = null, string? hostRoot = null, int? selfPid = null)
    {
        _fs = fs;
        _filesystemRoot = filesystemRoot.TrimEnd('/');
        _mounts = mounts;
        _hostRoot = string.IsNullOrEmpty(hostRoot) || hostRoot == "/" ? null : hostRoot.TrimEnd('/');
        _selfPid = selfPid ?? Environment.ProcessId;
    }

    /// <summary>The host cgroup root this resolver is limited to; null when it uses every cgroup mount.</summary>
    public string? HostRoot => _hostRoot;

    /// <summary>
    /// Resolves the memory cgroup of <paramref name="pid"/>. Returns false when the process is gone. Returns true
    /// with a null <paramref name="location"/> when the process exists but its memory cgroup is not visible from
    /// this process (no memory controller mounted, or the cgroup lies outside every visible mount).
    /// </summary>
    public bool TryResolveMemory(int pid, FileBuffer buffer, out CgroupLocation? location)
    {
        if (!ProcCgroup.TryRead(_fs, pid, buffer, out ProcCgroup? cgroups))
        {
            location = null;
            return false;
        }

        location = ResolveMemory(cgroups, buffer);
        return true;
    }

    /// <summary>True when this process sees a cgroup mount to resolve through (under <see cref="HostRoot"/> when set).</summary>
    public bool HasCgroupMounts(FileBuffer buffer)
    {
        foreach (MountInfoEntry m in GetMounts(buffer).Entries)
        {
            if ((m.FsType == "cgroup2" || (m.FsType == "cgroup" && m.HasSuperOption("memory"))) && IsUnderHostRoot(m))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Maps already-read <c>/proc/PID/cgroup</c> entries to the memory cgroup directory; null when not visible.</summary>
    public CgroupLocation? ResolveMemory(ProcCgroup cgroups, FileBuffer buffer)
    {
        MountInfo mounts = GetMounts(buffer);
        ProcCgroupEntry? unified = cgroups.Unified;
        Mapped? unifiedDirectory = unified is null ? null : Map(unified.Value.Path, mounts, unified: true, buffer);

        ProcCgroupEntry? v1 = cgroups.FindController("memory");
        if (v1 is not null)
        {
            // Memory is bound to a v1 hierarchy: cgroup2, if mounted, carries no memory controller.
            Mapped? mapped = Map(v1.Value.Path, mounts, unified: false, buffer);
            return mapped is null
                ? null
                : new CgroupLocation(1, v1.Value.Path, mapped.Directory, MountDirectory(mapped.Mount), unifiedDirectory?.Directory)
                {
                    HostPath = mapped.HostPath,
                };
        }

        if (unified is null || unifiedDirectory is null)
        {
            return null;
        }

        string mountDirectory = MountDirectory(unifiedDirectory.Mount);
        if (!HasMemoryController(mountDirectory, buffer))
        {
            return null;
        }

        return new CgroupLocation(2, unified.Value.Path, unifiedDirectory.Directory, mountDirectory, unifiedDirectory.Directory)
        {
            HostPath = unifiedDirectory.HostPath,
        };
    }

    /// <summary>
    /// The memory (v1) or unified (v2) cgroup path of a process, placed on the topmost level this process can see
    /// (the host's root when its tree is mounted): <c>/kubepods/burstable/pod.../&lt;id&gt;</c> rather than
    /// <c>/../../burstable/pod.../&lt;id&gt;</c>. The path as listed when it cannot be placed.
    /// </summary>
    public string PlacePath(ProcCgroup cgroups, FileBuffer buffer)
    {
        ProcCgroupEntry? v1 = cgroups.FindController("memory");
        ProcCgroupEntry? entry = v1 ?? cgroups.Unified;
        if (entry is null)
        {
            return "";
        }

        string path = entry.Value.Path;
        if (!path.StartsWith("/..", StringComparison.Ordinal))
        {
            return path;
        }

        return Map(path, GetMounts(buffer), unified: v1 is null, buffer)?.HostPath ?? path;
    }

    private MountInfo GetMounts(FileBuffer buffer)
    {
        return _mounts ??= MountInfo.TryReadSelf(_fs, buffer, out MountInfo? read) ? read : new MountInfo([]);
    }

    private sealed record Mapped(MountInfoEntry Mount, string Directory, string HostPath);

    private Mapped? Map(string path, MountInfo mounts, bool unified, FileBuffer buffer)
    {
        if (NamespacedCgroupPath.Parse(path) is not { } target)
        {
            return null;
        }

        var candidates = new List<(MountInfoEntry Mount, NamespacedCgroupPath Root)>();
        int highest = target.Ups;
        foreach (MountInfoEntry m in mounts.Entries)
        {
            if (IsHierarchy(m, unified) && IsUnderHostRoot(m) && !IsShadowed(m, mounts) && NamespacedCgroupPath.Parse(m.Root) is { } root)
            {
                candidates.Add((m, root));
                highest = Math.Max(highest, root.Ups);
            }
        }

        // A mount showing cgroups above the target's climb (the host's tree seen from inside a namespace) can only be
        // compared with the target through the names of the levels in between.
        IReadOnlyList<string>? found = Anchor(highest, target, candidates, unified, buffer);

        // Without names, every path is compared at the target's own level ("..", never a cgroup's name, stands in).
        IReadOnlyList<string> anchor = found ?? Enumerable.Repeat("..", target.Ups).ToArray();

        MountInfoEntry? best = null;
        string bestRoot = "";
        string? anchoredTarget = target.FromAnchor(anchor);
        if (anchoredTarget is null)
        {
            return null;
        }

        foreach ((MountInfoEntry m, NamespacedCgroupPath root) in candidates)
        {
            if (root.FromAnchor(anchor) is { } r && IsPathPrefix(r.Length == 0 ? "/" : r, anchoredTarget.Length == 0 ? "/" : anchoredTarget)
                && (best is null || r.Length > bestRoot.Length))
            {
                best = m;
                bestRoot = r;
            }
        }

        if (best is null)
        {
            return null;
        }

        string relative = anchoredTarget[bestRoot.Length..];
        return new Mapped(best, MountDirectory(best) + relative, found is null ? path : (anchoredTarget.Length == 0 ? "/" : anchoredTarget));
    }

    /// <summary>The names of the levels up to the highest mount's root; null if none is needed or they were not found.</summary>
    private IReadOnlyList<string>? Anchor(
        int highest, NamespacedCgroupPath target, List<(MountInfoEntry Mount, NamespacedCgroupPath Root)> candidates, bool unified, FileBuffer buffer)
    {
        bool needed = false;
        foreach ((_, NamespacedCgroupPath root) in candidates)
        {
            needed |= root.Ups > target.Ups;
        }

        if (!needed)
        {
            return null;
        }

        if (!_anchors.TryGetValue(unified, out IReadOnlyList<string>? names))
        {
            names = FindAnchor(highest, candidates, unified, buffer);
            _anchors[unified] = names;
        }

        return names;
    }

    private IReadOnlyList<string>? FindAnchor(int highest, List<(MountInfoEntry Mount, NamespacedCgroupPath Root)> candidates, bool unified, FileBuffer buffer)
    {
        ProcCgroup? self;
        try
        {
            if (!ProcCgroup.TryRead(_fs, _selfPid, buffer, out self))
            {
                return null;
            }
        }
        catch (Exception e) when (e is ProcParseException or IOException or UnauthorizedAccessException)
        {
            // Without its own cgroup the reader cannot find itself in the host's tree.
            return null;
        }

        ProcCgroupEntry? entry = unified ? self.Unified : self.FindController("memory");
        if (entry is null || NamespacedCgroupPath.Parse(entry.Value.Path) is not { } selfPath)
        {
            return null;
        }

        foreach ((MountInfoEntry m, NamespacedCgroupPath root) in candidates)
        {
            if (root.Ups == highest && root.Below.Length == 0)
            {
                return CgroupNamespaceAnchor.Find(MountDirectory(m), highest, selfPath, _selfPid, buffer);
            }
        }

        return null;
    }

    private static bool IsHierarchy(MountInfoEntry m, bool unified)
        => unified ? m.FsType == "cgroup2" : m.FsType == "cgroup" && m.HasSuperOption("memory");

    private bool IsUnderHostRoot(MountInfoEntry m) => _hostRoot is null || IsPathPrefix(_hostRoot, m.MountPoint);

    /// <summary>Where a mount's files are read: under the fixture prefix, and mounts below /sys under the filesystem's sysfs root.</summary>
    private string MountDirectory(MountInfoEntry mount)
    {
        string point = _fs.MountPath(mount.MountPoint);
        return point == "/" ? (_filesystemRoot.Length == 0 ? "/" : _filesystemRoot) : _filesystemRoot + point;
    }

    /// <summary>
    /// A mount hidden by another mounted later on its mount point or on a directory above it (a container's bind over
    /// the host's cgroupfs, or a tmpfs over <c>/sys/fs/cgroup</c>): the other is not one of its ancestors, but sits on
    /// one of them or on the mount itself.
    /// </summary>
    private static bool IsShadowed(MountInfoEntry mount, MountInfo mounts)
    {
        var chain = new HashSet<int> { mount.MountId };
        MountInfoEntry? current = mount;
        while (current is not null && current.ParentId != current.MountId && chain.Add(current.ParentId))
        {
            current = Find(mounts, current.ParentId);
        }

        foreach (MountInfoEntry other in mounts.Entries)
        {
            if (!chain.Contains(other.MountId) && chain.Contains(other.ParentId) && IsPathPrefix(other.MountPoint, mount.MountPoint))
            {
                return true;
            }
        }

        return false;
    }

    private static MountInfoEntry? Find(MountInfo mounts, int id)
    {
        foreach (MountInfoEntry m in mounts.Entries)
        {
            if (m.MountId == id)
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="root"/> equals <paramref name="path"/> or is an ancestor of it, whole components only.</summary>
    internal static bool IsPathPrefix(string root, string path)
    {
        if (root == "/")
        {
            return path.StartsWith('/');
        }

        return path.StartsWith(root, StringComparison.Ordinal)
            && (path.Length == root.Length || path[root.Length] == '/');
    }

    private static bool HasMemoryController(string mountDirectory, FileBuffer buffer)
    {
        if (!buffer.TryLoad(mountDirectory + "/cgroup.controllers"))
        {
            return false;
        }

        ReadOnlySpan<byte> rest = buffer.Span;
        while (true)
        {
            ReadOnlySpan<byte> field = ByteParsing.NextField(ref rest);
            if (field.IsEmpty)
            {
                return false;
            }

            if (field.TrimEnd((byte)'\n').SequenceEqual("memory"u8))
            {
                return true;
            }
        }
    }
}

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
/// <para>Containers: paths in <c>/proc/PID/cgroup</c> are relative to the reader's cgroup namespace, and a cgroupfs
/// mount's <c>root</c> field names the cgroup it shows (a container without its own cgroup namespace sees
/// <c>root=/kubepods/.../&lt;id&gt;</c> mounted at <c>/sys/fs/cgroup/memory</c>). The mount whose root is the longest
/// prefix of the path is chosen and the rest of the path is appended to its mount point. A path outside every
/// visible mount (it starts with <c>/..</c>, or no mount root is a prefix) is not resolvable from here.</para>
/// <para>Mounts are read once, on first use; create a new resolver to see new mounts.</para>
/// </remarks>
public sealed class CgroupResolver
{
    private readonly ProcFileSystem _fs;
    private readonly string _filesystemRoot;
    private MountInfo? _mounts;

    /// <param name="fs">The proc filesystem: <c>/proc/PID/cgroup</c> and <c>self/mountinfo</c> are read through it.</param>
    /// <param name="filesystemRoot">Prefix for the mount points of mountinfo (default <c>/</c>; a fixture tree in tests).</param>
    /// <param name="mounts">The reader's mounts; null to read <c>self/mountinfo</c> on first use.</param>
    public CgroupResolver(ProcFileSystem fs, string filesystemRoot = "/", MountInfo? mounts = null)
    {
        _fs = fs;
        _filesystemRoot = filesystemRoot.TrimEnd('/');
        _mounts = mounts;
    }

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

    /// <summary>Maps already-read <c>/proc/PID/cgroup</c> entries to the memory cgroup directory; null when not visible.</summary>
    public CgroupLocation? ResolveMemory(ProcCgroup cgroups, FileBuffer buffer)
    {
        MountInfo mounts = GetMounts(buffer);
        ProcCgroupEntry? unified = cgroups.Unified;
        (MountInfoEntry Mount, string Directory)? unifiedDirectory = unified is null
            ? null
            : Map(unified.Value.Path, mounts, static m => m.FsType == "cgroup2");

        ProcCgroupEntry? v1 = cgroups.FindController("memory");
        if (v1 is not null)
        {
            // Memory is bound to a v1 hierarchy: cgroup2, if mounted, carries no memory controller.
            var mapped = Map(v1.Value.Path, mounts, static m => m.FsType == "cgroup" && m.HasSuperOption("memory"));
            return mapped is null
                ? null
                : new CgroupLocation(1, v1.Value.Path, mapped.Value.Directory, MountDirectory(mapped.Value.Mount), unifiedDirectory?.Directory);
        }

        if (unified is null || unifiedDirectory is null)
        {
            return null;
        }

        string mountDirectory = MountDirectory(unifiedDirectory.Value.Mount);
        if (!HasMemoryController(mountDirectory, buffer))
        {
            return null;
        }

        return new CgroupLocation(2, unified.Value.Path, unifiedDirectory.Value.Directory, mountDirectory, unifiedDirectory.Value.Directory);
    }

    private MountInfo GetMounts(FileBuffer buffer)
    {
        if (_mounts is null)
        {
            _mounts = MountInfo.TryReadSelf(_fs, buffer, out MountInfo? read) ? read : new MountInfo([]);
        }

        return _mounts;
    }

    private (MountInfoEntry Mount, string Directory)? Map(string path, MountInfo mounts, Func<MountInfoEntry, bool> isHierarchy)
    {
        MountInfoEntry? best = null;
        foreach (MountInfoEntry m in mounts.Entries)
        {
            if (isHierarchy(m) && IsPathPrefix(m.Root, path) && (best is null || m.Root.Length > best.Root.Length)
                && !IsShadowed(m, mounts))
            {
                best = m;
            }
        }

        if (best is null)
        {
            return null;
        }

        string relative = best.Root == "/" ? path : path[best.Root.Length..];
        if (relative == "/")
        {
            relative = "";
        }

        if (IsEscaping(relative))
        {
            return null;
        }

        return (best, MountDirectory(best) + relative);
    }

    private string MountDirectory(MountInfoEntry mount)
        => mount.MountPoint == "/" ? (_filesystemRoot.Length == 0 ? "/" : _filesystemRoot) : _filesystemRoot + mount.MountPoint;

    /// <summary>A mount hidden by a later mount on the same mount point (a container's bind over the host's cgroupfs).</summary>
    private static bool IsShadowed(MountInfoEntry mount, MountInfo mounts)
    {
        foreach (MountInfoEntry other in mounts.Entries)
        {
            if (other.ParentId == mount.MountId && other.MountId != mount.MountId && other.MountPoint == mount.MountPoint)
            {
                return true;
            }
        }

        return false;
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

    /// <summary>A <c>..</c> component would leave the mount (paths outside the reader's cgroup namespace).</summary>
    private static bool IsEscaping(string relative)
    {
        foreach (Range r in relative.AsSpan().Split('/'))
        {
            if (relative.AsSpan()[r].SequenceEqual(".."))
            {
                return true;
            }
        }

        return false;
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

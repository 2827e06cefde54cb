namespace MemWatch.Probes.ProcFs;

/// <summary>One line of <c>/proc/PID/mountinfo</c> (proc_pid_mountinfo(5)), paths unescaped.</summary>
/// <param name="MountId">Unique id of the mount.</param>
/// <param name="ParentId">Id of the parent mount (the mount's own id for the root of the mount tree).</param>
/// <param name="Major">Device major number of <c>st_dev</c>.</param>
/// <param name="Minor">Device minor number of <c>st_dev</c>.</param>
/// <param name="Root">The directory of the filesystem that forms this mount's root. For cgroupfs it is the
/// cgroup shown at <paramref name="MountPoint"/>, relative to the reader's cgroup namespace.</param>
/// <param name="MountPoint">Where the mount is, relative to the reader's root directory.</param>
/// <param name="MountOptions">Per-mount options (<c>rw,relatime</c>).</param>
/// <param name="OptionalFields">Space-separated tagged fields (<c>shared:1 master:2</c>); empty when none.</param>
/// <param name="FsType">Filesystem type (<c>cgroup</c>, <c>cgroup2</c>, <c>ext4</c>).</param>
/// <param name="Source">Filesystem-specific source; may be empty.</param>
/// <param name="SuperOptions">Per-superblock options; for cgroup v1 they list the controllers (<c>rw,memory</c>).</param>
public sealed record MountInfoEntry(
    int MountId,
    int ParentId,
    uint Major,
    uint Minor,
    string Root,
    string MountPoint,
    string MountOptions,
    string OptionalFields,
    string FsType,
    string Source,
    string SuperOptions)
{
    /// <summary>True when <paramref name="option"/> is one of the comma-separated super options.</summary>
    public bool HasSuperOption(string option) => MemWatch.Probes.Cgroups.CommaList.Contains(SuperOptions, option);
}

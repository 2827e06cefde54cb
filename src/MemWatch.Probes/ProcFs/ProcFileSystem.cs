namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The root of a proc filesystem (default <c>/proc</c>; <c>/host/proc</c> in a Kubernetes DaemonSet;
/// a fixture directory in tests) and of the sysfs beside it (default <c>/sys</c>). The only place that builds /proc
/// and /sys paths.
/// </summary>
public sealed class ProcFileSystem
{
    public const string DefaultRoot = "/proc";

    public const string DefaultSysRoot = "/sys";

    public ProcFileSystem(string root = DefaultRoot, string sysRoot = DefaultSysRoot)
    {
        Root = Trim(root);
        SysRoot = Trim(sysRoot);
    }

    /// <summary>The shared default instance rooted at <c>/proc</c>.</summary>
    public static ProcFileSystem Default { get; } = new();

    public string Root { get; }

    /// <summary>Where sysfs is read: mount points under <c>/sys</c> (cgroup trees in mountinfo) are placed beneath it.</summary>
    public string SysRoot { get; }

    /// <summary><c>{root}/{name}</c>, e.g. <c>/proc/meminfo</c>.</summary>
    public string SystemPath(string name) => $"{Root}/{name}";

    /// <summary><c>{root}/{pid}/{name}</c>, e.g. <c>/proc/1234/smaps</c>.</summary>
    public string ProcessPath(int pid, string name) => $"{Root}/{pid}/{name}";

    /// <summary><c>{root}/{pid}/task/{tid}/{name}</c>.</summary>
    public string ThreadPath(int pid, int tid, string name) => $"{Root}/{pid}/task/{tid}/{name}";

    /// <summary><c>{root}/{pid}</c>.</summary>
    public string ProcessDirectory(int pid) => $"{Root}/{pid}";

    /// <summary><c>{sysroot}/{name}</c>, e.g. <c>/sys/kernel/mm/transparent_hugepage/enabled</c>.</summary>
    public string SysPath(string name) => $"{SysRoot}/{name}";

    /// <summary>
    /// A path as this process's mountinfo names it, placed on this filesystem: <c>/sys</c> and what is below it under
    /// <see cref="SysRoot"/>, everything else unchanged.
    /// </summary>
    public string MountPath(string path)
    {
        if (SysRoot == DefaultSysRoot || !(path == DefaultSysRoot || path.StartsWith(DefaultSysRoot + "/", StringComparison.Ordinal)))
        {
            return path;
        }

        return SysRoot + path[DefaultSysRoot.Length..];
    }

    private static string Trim(string root)
    {
        string trimmed = root.TrimEnd('/');
        return trimmed.Length == 0 ? "/" : trimmed;
    }
}

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The root of a proc filesystem (default <c>/proc</c>; <c>/host/proc</c> in a Kubernetes DaemonSet;
/// a fixture directory in tests). The only place that builds /proc paths.
/// </summary>
public sealed class ProcFileSystem
{
    public const string DefaultRoot = "/proc";

    public ProcFileSystem(string root = DefaultRoot)
    {
        Root = root.TrimEnd('/');
        if (Root.Length == 0)
        {
            Root = "/";
        }
    }

    /// <summary>The shared default instance rooted at <c>/proc</c>.</summary>
    public static ProcFileSystem Default { get; } = new();

    public string Root { get; }

    /// <summary><c>{root}/{name}</c>, e.g. <c>/proc/meminfo</c>.</summary>
    public string SystemPath(string name) => $"{Root}/{name}";

    /// <summary><c>{root}/{pid}/{name}</c>, e.g. <c>/proc/1234/smaps</c>.</summary>
    public string ProcessPath(int pid, string name) => $"{Root}/{pid}/{name}";

    /// <summary><c>{root}/{pid}/task/{tid}/{name}</c>.</summary>
    public string ThreadPath(int pid, int tid, string name) => $"{Root}/{pid}/task/{tid}/{name}";

    /// <summary><c>{root}/{pid}</c>.</summary>
    public string ProcessDirectory(int pid) => $"{Root}/{pid}";
}

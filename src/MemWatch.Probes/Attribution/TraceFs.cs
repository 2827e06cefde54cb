namespace MemWatch.Probes.Attribution;

/// <summary>
/// The kernel's tracing filesystem (tracefs), where each tracepoint's id and record layout are published: mounted at
/// /sys/kernel/tracing, or under debugfs at /sys/kernel/debug/tracing on older set-ups.
/// </summary>
public sealed class TraceFs(string root)
{
    public static readonly string[] DefaultRoots = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

    public string Root { get; } = root;

    /// <summary>The first mounted tracefs (one with an <c>events</c> directory), or null.</summary>
    public static TraceFs? Find()
    {
        foreach (string root in DefaultRoots)
        {
            try
            {
                if (Directory.Exists(Path.Combine(root, "events")))
                {
                    return new TraceFs(root);
                }
            }
            catch (UnauthorizedAccessException)
            {
                // tracefs is 0700 root: without the right to list it, try the next place.
            }
        }

        return null;
    }

    /// <summary>Reads <c>events/<paramref name="system"/>/<paramref name="name"/>/format</c>; null when that tracepoint does not exist.</summary>
    public TracepointFormat? TryReadFormat(string system, string name)
    {
        string path = Path.Combine(Root, "events", system, name, "format");
        try
        {
            return TracepointFormat.Parse(File.ReadAllText(path), path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}

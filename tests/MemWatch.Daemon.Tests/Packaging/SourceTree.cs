namespace MemWatch.Daemon.Tests.Packaging;

/// <summary>The MemWatch checkout the tests run from (scripts/, Directory.Build.props), and the release version.</summary>
public static class SourceTree
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "MemWatch.sln")))
        {
            dir = Path.GetDirectoryName(dir.TrimEnd('/')) ?? throw new InvalidOperationException("no MemWatch.sln above the tests");
        }

        return dir;
    });

    public static string Root => s_root.Value;

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Directory.Build.props's Version: the one place the release version is written.</summary>
    public static string Version
    {
        get
        {
            string props = File.ReadAllText(Combine("Directory.Build.props"));
            int start = props.IndexOf("<Version>", StringComparison.Ordinal) + "<Version>".Length;
            return props[start..props.IndexOf("</Version>", start, StringComparison.Ordinal)];
        }
    }
}

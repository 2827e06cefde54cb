namespace MemWatch.Probes.Symbols;

/// <summary>
/// Finds a separate debug file by build-id in the GDB layout <c>{root}/.build-id/xx/yyyy….debug</c>
/// (e.g. Debian's <c>libc6-dbg</c> under /usr/lib/debug). See gdb's "Separate Debug Files".
/// </summary>
public sealed class DebugFileLocator
{
    public const string DefaultRoot = "/usr/lib/debug";

    private readonly string[] _roots;

    public DebugFileLocator(params string[] roots)
    {
        _roots = roots.Length == 0 ? [DefaultRoot] : roots;
    }

    /// <summary>Looks under /usr/lib/debug only.</summary>
    public static DebugFileLocator Default { get; } = new();

    public IReadOnlyList<string> Roots => _roots;

    /// <summary>
    /// The debug file for <paramref name="buildId"/> (lower-case hex), or null. <paramref name="extraRoots"/> are searched
    /// after the configured roots, e.g. the target's own <c>/proc/PID/root/usr/lib/debug</c>.
    /// </summary>
    public string? Locate(string buildId, params ReadOnlySpan<string> extraRoots)
    {
        if (buildId.Length < 4 || !IsLowerHex(buildId))
        {
            return null;
        }

        string relative = $".build-id/{buildId[..2]}/{buildId[2..]}.debug";
        foreach (string root in _roots)
        {
            string candidate = Path.Combine(root, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (string root in extraRoots)
        {
            string candidate = Path.Combine(root, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary><c>.build-id/xx/yyyy….debug</c> for <paramref name="buildId"/>, or null when it is not lower-case hex.</summary>
    public static string? RelativePath(string buildId) =>
        buildId.Length >= 4 && IsLowerHex(buildId) ? $".build-id/{buildId[..2]}/{buildId[2..]}.debug" : null;

    private static bool IsLowerHex(string s)
    {
        foreach (char c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}

namespace MemWatch.Daemon.Cli;

/// <summary>Where the daemon keeps its state (the history database) when no --state-dir or configuration says otherwise.</summary>
internal static class StateDirectory
{
    public const string Fallback = "/var/lib/memwatch";

    /// <summary>$STATE_DIRECTORY (set by systemd's StateDirectory=; the first of a colon-separated list), else /var/lib/memwatch.</summary>
    public static string Default
    {
        get
        {
            string? fromSystemd = Environment.GetEnvironmentVariable("STATE_DIRECTORY");
            string first = fromSystemd?.Split(':', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            return first.Length > 0 ? first : Fallback;
        }
    }
}

namespace MemWatch.Daemon.Tests.Support;

/// <summary>Pieces of daemon configuration that several tests share, as the JSON dictionaries DaemonProcess writes.</summary>
public static class TestConfig
{
    /// <summary>Sampling every second, rollups every 2 s and introspection every second: a test sees a change in seconds.</summary>
    public static Dictionary<string, object?> FastSampling() => new()
    {
        ["Interval"] = "00:00:01",
        ["RollupInterval"] = "00:00:02",
        ["IntrospectInterval"] = "00:00:01",
    };

    /// <summary>A rule for one pid that allows actions and trims once 100 MiB and 25% of RSS are releasable.</summary>
    public static Dictionary<string, object?> TrimPolicyRule(string name, int pid, string minInterval) => new()
    {
        ["Name"] = name,
        ["Pid"] = pid,
        ["AllowActions"] = true,
        ["Remediation"] = new Dictionary<string, object?>
        {
            ["Trim"] = new Dictionary<string, object?>
            {
                ["Enabled"] = true,
                ["MinReleasableMiB"] = 100,
                ["MinReleasablePercent"] = 25,
                ["MinInterval"] = minInterval,
            },
        },
    };
}

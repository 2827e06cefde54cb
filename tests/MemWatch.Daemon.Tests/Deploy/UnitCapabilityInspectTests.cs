using System.Text.Json;
using System.Text.RegularExpressions;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// The real <c>memwatch inspect</c>, run as nobody with exactly the capabilities of deploy/systemd/memwatch.service,
/// reads a root process in full (smaps regions, allocator): the unit's capability set is enough. With
/// CAP_DAC_READ_SEARCH alone it is refused.
/// </summary>
public sealed partial class UnitCapabilityInspectTests
{
    [Fact]
    public void InspectWithTheUnitsCapabilitiesReadsAnotherUsersProcess()
    {
        using Workload w = Workload.Start("cgroup_alloc.c");
        Assert.StartsWith("OK", w.Send("alloc 16"), StringComparison.Ordinal);

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"], prefix: AsNobodyWith(UnitCapabilities()));

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument report = JsonDocument.Parse(r.StandardOutput);
        JsonElement root = report.RootElement;
        Assert.True(root.GetProperty("rssBytes").GetInt64() >= 16L << 20);
        Assert.True(root.GetProperty("pssBytes").GetInt64() > 0);
        Assert.NotEmpty(root.GetProperty("regions").EnumerateArray());
        Assert.Equal("glibc", root.GetProperty("allocator").GetProperty("name").GetString());
    }

    [Fact]
    public void InspectWithDacReadSearchAloneIsDenied()
    {
        using Workload w = Workload.Start("cgroup_alloc.c");

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], prefix: AsNobodyWith("+dac_read_search"));

        Assert.Equal(4, r.ExitCode);
        Assert.StartsWith($"memwatch: permission denied reading /proc/{w.Pid}", r.StandardError, StringComparison.Ordinal);
    }

    /// <summary>AmbientCapabilities= of the unit in setpriv's syntax: "+sys_ptrace,+dac_read_search".</summary>
    private static string UnitCapabilities()
    {
        string unit = DeployTree.ReadAllText("systemd", "memwatch.service");
        Match m = AmbientLine().Match(unit);
        Assert.True(m.Success, "no AmbientCapabilities= in memwatch.service");
        return string.Join(',', m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(c => "+" + c["CAP_".Length..].ToLowerInvariant()));
    }

    private static string[] AsNobodyWith(string caps) =>
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", $"--inh-caps={caps}", $"--ambient-caps={caps}", "env", "HOME=/tmp"];

    [GeneratedRegex(@"^AmbientCapabilities=(.+)$", RegexOptions.Multiline)]
    private static partial Regex AmbientLine();
}

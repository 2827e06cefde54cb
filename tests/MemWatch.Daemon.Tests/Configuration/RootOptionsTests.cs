using MemWatch.Daemon.Configuration;

namespace MemWatch.Daemon.Tests.Configuration;

/// <summary>Sampling.ProcRoot and Sampling.SysRoot: bound like every option, defaulting to the host's trees, refused when relative.</summary>
public sealed class RootOptionsTests
{
    private static readonly Dictionary<string, string?> s_noEnvironment = [];

    [Fact]
    public void Defaults_AreTheHostsProcAndSys()
    {
        DaemonSettings settings = DaemonConfigurationLoader.Load(null, null, s_noEnvironment);
        Assert.Equal("/proc", settings.Sampling.ProcRoot);
        Assert.Equal("/sys", settings.Sampling.SysRoot);
    }

    [Fact]
    public void Environment_SetsBothRoots()
    {
        DaemonSettings settings = DaemonConfigurationLoader.Load(null, null, new Dictionary<string, string?>
        {
            ["MEMWATCH_Sampling__ProcRoot"] = "/host/proc",
            ["MEMWATCH_Sampling__SysRoot"] = "/host/sys",
        });
        Assert.Equal("/host/proc", settings.Sampling.ProcRoot);
        Assert.Equal("/host/sys", settings.Sampling.SysRoot);
    }

    [Theory]
    [InlineData("MEMWATCH_Sampling__ProcRoot", "proc", "Sampling.ProcRoot must be an absolute path without '..', not 'proc'")]
    [InlineData("MEMWATCH_Sampling__SysRoot", "/host/../sys", "Sampling.SysRoot must be an absolute path without '..', not '/host/../sys'")]
    public void RelativeOrClimbingRoots_AreRefused(string variable, string value, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() =>
            DaemonConfigurationLoader.Load(null, null, new Dictionary<string, string?> { [variable] = value }));
        Assert.Contains(expected, e.Errors);
    }
}

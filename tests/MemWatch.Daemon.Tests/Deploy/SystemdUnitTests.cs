using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// deploy/systemd: the unit passes <c>systemd-analyze verify</c> without a word, and its exposure score
/// (<c>systemd-analyze security --offline=true</c>) does not rise above the value recorded in deploy/systemd/README.md.
/// </summary>
public sealed partial class SystemdUnitTests
{
    // Recorded in deploy/systemd/README.md. Lower them when the unit gets tighter; never raise them to make a test pass.
    private const decimal BaseExposureCeiling = 2.0m;
    private const decimal IntrospectExposureCeiling = 2.1m;

    private const string InstalledBinary = "/usr/lib/memwatch/memwatch";
    private const string IntrospectDropIn = "memwatch-introspect.conf";

    [Theory]
    [InlineData(null)]
    [InlineData("memwatch-introspect.conf")]
    [InlineData("memwatch-remote-scrape.conf")]
    [InlineData("memwatch-attribution.conf")]
    public void VerifyIsSilent(string? dropIn)
    {
        using var dir = StageUnit(dropIn);
        ExternalTool.Result verify = ExternalTool.Run("systemd-analyze", ["verify", dir.Combine("memwatch.service")]);

        Assert.True(verify.ExitCode == 0 && verify.Output.Trim().Length == 0, $"systemd-analyze verify said:\n{verify.Output}");
    }

    [Fact]
    public void ExposureScoreDoesNotRise()
    {
        using var dir = StageUnit(null);
        ExternalTool.Result security = Security(dir);

        decimal score = OverallExposure(security.StandardOutput);
        Assert.True(score <= BaseExposureCeiling, $"exposure {score} > {BaseExposureCeiling}:\n{security.StandardOutput}");
    }

    [Fact]
    public void ExposureScoreWithTheIntrospectDropInDoesNotRise()
    {
        using var dir = StageUnit(IntrospectDropIn);
        ExternalTool.Result security = Security(dir);

        decimal score = OverallExposure(security.StandardOutput);
        Assert.True(score <= IntrospectExposureCeiling, $"exposure {score} > {IntrospectExposureCeiling}:\n{security.StandardOutput}");
    }

    /// <summary>Passive mode holds CAP_SYS_PTRACE for smaps, so the system call filter is what keeps ptrace(2) out.</summary>
    [Fact]
    public void OnlyTheDropInAllowsPtrace()
    {
        using var passive = StageUnit(null);
        using var invasive = StageUnit(IntrospectDropIn);

        Assert.Matches(DebugExcluded(), Security(passive).StandardOutput);
        Assert.DoesNotMatch(DebugExcluded(), Security(invasive).StandardOutput);
    }

    [Fact]
    public void ReadmeRecordsTheCeilings()
    {
        string readme = DeployTree.ReadAllText("systemd", "README.md");

        Assert.Contains($"| `memwatch.service` | **{BaseExposureCeiling.ToString(CultureInfo.InvariantCulture)} OK** |", readme);
        Assert.Contains($"| with `memwatch-introspect.conf` | **{IntrospectExposureCeiling.ToString(CultureInfo.InvariantCulture)} OK**", readme);
    }

    [Fact]
    public void UnitRunsTheInstalledBinaryWithTheSampleConfig()
    {
        string unit = DeployTree.ReadAllText("systemd", "memwatch.service");

        Assert.Contains($"ExecStart={InstalledBinary} run --config /etc/memwatch/memwatch.json\n", unit);
        Assert.Contains("Type=notify\n", unit);
        Assert.Matches(new Regex(@"^WatchdogSec=\d+s$", RegexOptions.Multiline), unit);
        Assert.Contains("StateDirectory=memwatch\n", unit);
        Assert.Contains("AmbientCapabilities=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH\n", unit);
        Assert.Contains("CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH\n", unit);
    }

    /// <summary>The sample configuration has the shape the daemon reads (README.md, "Daemon configuration").</summary>
    [Fact]
    public void SampleConfigHasTheContractShape()
    {
        using JsonDocument config = JsonDocument.Parse(DeployTree.ReadAllText("systemd", "memwatch.json"));
        JsonElement root = config.RootElement;

        Assert.Equal("127.0.0.1:9487", root.GetProperty("Listen").GetString());
        foreach (string key in new[] { "Interval", "RollupInterval", "SmapsInterval", "IntrospectInterval", "Window" })
        {
            Assert.True(TimeSpan.TryParse(root.GetProperty("Sampling").GetProperty(key).GetString(), CultureInfo.InvariantCulture, out _), key);
        }

        JsonElement[] targets = [.. root.GetProperty("Targets").EnumerateArray()];
        Assert.Contains(targets, t => t.GetProperty("Name").GetString() == "default" && t.GetProperty("MinRssMiB").GetInt32() == 50);
        string[] known = ["Name", "Pid", "Comm", "Cmdline", "CgroupPrefix", "Unit", "User", "MinRssMiB", "Introspect", "AllowActions", "Remediation"];
        foreach (JsonElement target in targets)
        {
            foreach (JsonProperty p in target.EnumerateObject())
            {
                Assert.Contains(p.Name, known);
            }
        }
    }

    private static ExternalTool.Result Security(TempDirectory dir)
    {
        ExternalTool.Result r = ExternalTool.Run("systemd-analyze", ["security", "--offline=true", "--no-pager", dir.Combine("memwatch.service")]);
        Assert.True(r.StandardOutput.Contains("Overall exposure level", StringComparison.Ordinal), r.Output);
        return r;
    }

    private static decimal OverallExposure(string output)
    {
        Match m = OverallLine().Match(output);
        Assert.True(m.Success, output);
        return decimal.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A copy of the unit whose ExecStart runs /usr/bin/true instead: verify checks that the binary exists, and the
    /// tests must not depend on an installed memwatch.
    /// </summary>
    private static TempDirectory StageUnit(string? dropIn)
    {
        var dir = new TempDirectory();
        const string stub = "/usr/bin/true";

        string unit = DeployTree.ReadAllText("systemd", "memwatch.service");
        Assert.Contains(InstalledBinary + " ", unit);
        File.WriteAllText(dir.Combine("memwatch.service"), unit.Replace(InstalledBinary + " ", stub + " ", StringComparison.Ordinal));

        if (dropIn is not null)
        {
            Directory.CreateDirectory(dir.Combine("memwatch.service.d"));
            File.Copy(DeployTree.File("systemd", dropIn), dir.Combine("memwatch.service.d", dropIn));
        }

        return dir;
    }

    [GeneratedRegex(@"Overall exposure level for memwatch\.service: (\d+(?:\.\d+)?)")]
    private static partial Regex OverallLine();

    [GeneratedRegex(@"✓ SystemCallFilter=~@debug\s")]
    private static partial Regex DebugExcluded();
}

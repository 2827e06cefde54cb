using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Http;
using MemWatch.Daemon.Remediation;
using MemWatch.Daemon.Sampling;

namespace MemWatch.Daemon.Tests.Configuration;

/// <summary>Configuration binding and validation, and the small pure pieces the daemon decides with.</summary>
public sealed class ConfigurationTests
{
    private const ulong MiB = 1024 * 1024;

    private static readonly Dictionary<string, string?> s_noEnvironment = [];

    [Fact]
    public void WithNoFileTheDefaultsWatchEverythingAbove50MiBPassivelyOnLoopback()
    {
        DaemonSettings s = DaemonConfigurationLoader.Load(null, null, s_noEnvironment);
        Assert.Equal("127.0.0.1:9487", s.Listen.ToString());
        Assert.Equal("/var/lib/memwatch", s.StateDirectory);
        Assert.Null(s.Token);
        TargetRule rule = Assert.Single(s.Rules);
        Assert.Equal(50UL * 1024 * 1024, rule.Selector.MinRssBytes);
        Assert.False(rule.AllowActions);
        Assert.False(rule.Introspect);
        Assert.Equal(TimeSpan.FromSeconds(5), s.Sampling.Interval);
        Assert.Equal(500, s.Sampling.MaxTargets);
    }

    [Fact]
    public void EnvironmentOverridesAndCommandLineOverridesThat()
    {
        var env = new Dictionary<string, string?>
        {
            ["MEMWATCH_Listen"] = "0.0.0.0:9000",
            ["MEMWATCH_Sampling__Interval"] = "00:00:02",
            ["MEMWATCH_Targets__0__Unit"] = "api.service",
            ["MEMWATCH_Targets__0__Introspect"] = "true",
            ["STATE_DIRECTORY"] = "/var/lib/memwatch-unit:/other",
            ["UNRELATED"] = "x",
        };
        DaemonSettings s = DaemonConfigurationLoader.Load(null, null, env);
        Assert.Equal("0.0.0.0:9000", s.Listen.ToString());
        Assert.Equal(TimeSpan.FromSeconds(2), s.Sampling.Interval);
        Assert.Equal("api.service", Assert.Single(s.Rules).Selector.Unit);
        Assert.True(s.Rules[0].Introspect);
        Assert.Equal("/var/lib/memwatch-unit", s.StateDirectory);

        Assert.Equal("[::1]:9001", DaemonConfigurationLoader.Load(null, "[::1]:9001", env).Listen.ToString());
        Assert.Equal("127.0.0.1:9002", DaemonConfigurationLoader.Load(null, "localhost:9002", env).Listen.ToString());
    }

    /// <summary>
    /// Kubernetes gives every container of a namespace with a Service named memwatch its service links
    /// (MEMWATCH_SERVICE_HOST, MEMWATCH_PORT_9487_TCP_ADDR, ...): they name no section, so they are ignored with a
    /// warning; a typo below a real section is still refused.
    /// </summary>
    [Fact]
    public void MemwatchVariablesOutsideTheSectionsAreIgnoredWithAWarningTyposInsideThemAreNot()
    {
        var env = new Dictionary<string, string?>
        {
            ["MEMWATCH_SERVICE_HOST"] = "10.0.0.7",
            ["MEMWATCH_PORT_9487_TCP_ADDR"] = "10.0.0.7",
            ["MEMWATCH_PORT"] = "tcp://10.0.0.7:9487",
            ["MEMWATCH_sampling__Interval"] = "00:00:03",
        };
        DaemonSettings s = DaemonConfigurationLoader.Load(null, null, env);

        Assert.Equal(TimeSpan.FromSeconds(3), s.Sampling.Interval);
        Assert.Equal(3, s.Warnings.Count(w => w.StartsWith("environment variable MEMWATCH_", StringComparison.Ordinal)));
        Assert.Contains(s.Warnings, w => w.Contains("MEMWATCH_SERVICE_HOST ignored", StringComparison.Ordinal));
        Assert.DoesNotContain(s.Warnings, w => w.Contains("10.0.0.7", StringComparison.Ordinal));

        env["MEMWATCH_Sampling__Intervall"] = "00:00:03";
        var e = Assert.Throws<ConfigurationException>(() => DaemonConfigurationLoader.Load(null, null, env));
        Assert.Contains(e.Errors, m => m.Contains("Intervall", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("nonsense", "Listen must be ADDR:PORT")]
    [InlineData("127.0.0.1", "Listen must be ADDR:PORT")]
    [InlineData("127.0.0.1:0", "Listen port")]
    [InlineData("example.com:80", "Listen address must be an IP address")]
    public void BadListenAddresses(string listen, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => DaemonConfigurationLoader.Load(null, listen, s_noEnvironment));
        Assert.Contains(e.Errors, m => m.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryRuleProblemIsReported()
    {
        var options = new DaemonOptions
        {
            Targets =
            [
                new TargetOptions { Name = "a", Pid = -3, User = "no-such-user-here", CgroupPrefix = "relative", MinRssMiB = -1 },
                new TargetOptions { Name = "a", Unit = "a/b", Remediation = new RemediationOptions { Trim = new TrimPolicyOptions { MinReleasablePercent = 101 } } },
            ],
            Sampling = new SamplingOptions { MaxTargets = 0, Window = TimeSpan.FromSeconds(1) },
            Logging = new LoggingOptions { Format = "xml", Level = "Loud" },
            Auth = new AuthOptions { TokenFile = "/nonexistent/token" },
        };
        var e = Assert.Throws<ConfigurationException>(() => DaemonConfigurationLoader.Validate(options, null));
        string all = string.Join("\n", e.Errors);
        foreach (string expected in new[]
        {
            "Targets[0].Pid", "Targets[0].User", "Targets[0].CgroupPrefix", "Targets[0].MinRssMiB", "Targets[1].Unit",
            "MinReleasablePercent", "MaxTargets", "Sampling.Window", "Logging.Format", "Logging.Level", "Auth.TokenFile",
        })
        {
            Assert.Contains(expected, all);
        }
    }

    [Fact]
    public void AShortTokenIsRefusedAndATokenIsLoadedTrimmed()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "short\n");
            var options = new DaemonOptions { Auth = new AuthOptions { TokenFile = file } };
            Assert.Throws<ConfigurationException>(() => DaemonConfigurationLoader.Validate(options, null));

            File.WriteAllText(file, "  0123456789abcdef-token\n");
            DaemonSettings s = DaemonConfigurationLoader.Validate(options, null);
            var auth = new BearerAuthenticator(s.Token);
            Assert.Equal(BearerCheck.Valid, auth.Check("Bearer 0123456789abcdef-token"));
            Assert.Equal(BearerCheck.Invalid, auth.Check("Bearer 0123456789abcdef-tokeN"));
            Assert.Equal(BearerCheck.Missing, auth.Check("Basic abc"));
            Assert.Equal(BearerCheck.Missing, auth.Check(null));
            Assert.Equal(BearerCheck.Disabled, new BearerAuthenticator(null).Check("Bearer 0123456789abcdef-token"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private const string Id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string Uid = "1f0c2d3e-4a5b-6c7d-8e9f-a0b1c2d3e4f5";

    [Theory]
    [InlineData("/system.slice/api.service", "api.service", "", "")]
    [InlineData("/user.slice/user-0.slice/session-3.scope", "session-3.scope", "", "")]
    [InlineData("/system.slice/docker-" + Id + ".scope", "", "docker://" + Id, "")]
    [InlineData("/machine.slice/libpod-" + Id + ".scope", "", Id, "")]
    [InlineData("/", "", "", "")]
    // Kubelet, cgroupfs driver: QoS class directories (none for guaranteed pods), pod<uid>, the bare id (containerd).
    [InlineData("/kubepods/burstable/pod" + Uid + "/" + Id, "", "containerd://" + Id, Uid)]
    [InlineData("/kubepods/besteffort/pod" + Uid + "/" + Id, "", "containerd://" + Id, Uid)]
    [InlineData("/kubepods/pod" + Uid + "/" + Id, "", "containerd://" + Id, Uid)]
    [InlineData("/kubepods/burstable/pod" + Uid + "/crio-" + Id, "", "cri-o://" + Id, Uid)]
    // Kubelet, systemd driver: the UID's dashes become underscores in the slice name.
    [InlineData("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f0c2d3e_4a5b_6c7d_8e9f_a0b1c2d3e4f5.slice/cri-containerd-" + Id + ".scope", "", "containerd://" + Id, Uid)]
    [InlineData("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1f0c2d3e_4a5b_6c7d_8e9f_a0b1c2d3e4f5.slice/crio-" + Id + ".scope", "", "cri-o://" + Id, Uid)]
    [InlineData("/kubepods.slice/kubepods-pod1f0c2d3e_4a5b_6c7d_8e9f_a0b1c2d3e4f5.slice/docker-" + Id + ".scope", "", "docker://" + Id, Uid)]
    // A pod-like name outside kubepods is not a pod.
    [InlineData("/system.slice/pod" + Uid + ".service", "pod" + Uid + ".service", "", "")]
    public void IdentityFromTheCgroupPath(string path, string unit, string container, string podUid)
    {
        TargetIdentity id = TargetIdentity.FromCgroupPath(path);
        Assert.Equal(unit, id.Unit);
        Assert.Equal(container, id.ContainerId);
        Assert.Equal(podUid, id.PodUid);
        Assert.Equal("", id.Pod);
    }

    [Fact]
    public void TrimPolicyNeedsBothThresholdsAndTheInterval()
    {
        var rule = new TargetRule(0, "r", new MemWatch.Probes.Discovery.ProcessSelector(), false, true,
            new TrimPolicyOptions { Enabled = true, MinReleasableMiB = 100, MinReleasablePercent = 25, MinInterval = TimeSpan.FromMinutes(30) });
        long now = 10_000_000;
        Assert.True(TrimPolicy.ShouldTrim(rule, 200 * MiB, 400 * MiB, 0, now, out _));
        Assert.False(TrimPolicy.ShouldTrim(rule, 100 * MiB, 200 * MiB, 0, now, out string why));
        Assert.Contains("not above 100 MiB", why);
        Assert.False(TrimPolicy.ShouldTrim(rule, 200 * MiB, 1000 * MiB, 0, now, out why));
        Assert.Contains("25% of RSS", why);
        Assert.False(TrimPolicy.ShouldTrim(rule, 200 * MiB, 400 * MiB, now - 60_000, now, out _));
        Assert.True(TrimPolicy.ShouldTrim(rule, 200 * MiB, 400 * MiB, now - 31 * 60_000, now, out _));
        Assert.False(TrimPolicy.ShouldTrim(rule, null, 400 * MiB, 0, now, out _));

        // Right after a trim glibc still counts the madvised chunks as releasable: only resident memory counts.
        Assert.False(TrimPolicy.ShouldTrim(rule, 286 * MiB, 24 * MiB, 0, now, out why));
        Assert.Contains("releasable 24 MiB", why);
        Assert.False(TrimPolicy.ShouldTrim(rule with { AllowActions = false }, 200 * MiB, 400 * MiB, 0, now, out _));
    }
}

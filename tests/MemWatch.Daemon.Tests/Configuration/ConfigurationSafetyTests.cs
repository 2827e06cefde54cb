using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using MemWatch.Daemon.Configuration;

namespace MemWatch.Daemon.Tests.Configuration;

/// <summary>
/// Issue 14, item 6: malformed and extreme configuration files, as a new user or a careless hand writes them. Each must
/// give exactly one <c>memwatch: config:</c> line per problem and exit 2; nothing may hang, crash or be ignored.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ConfigurationSafetyTests : IDisposable
{
    private static readonly Dictionary<string, string?> s_noEnvironment = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("memwatch-config-").FullName;

    [Theory]
    [InlineData("""{ "Targets": { "Name": "api", "Pid": 1 } }""", "Targets must be a list ([ ... ]), not an object")]
    [InlineData("""{ "Sampling": "5s" }""", "Sampling must be an object")]
    [InlineData("""{ "Targets": [ { "Remediation": [ 1 ] } ] }""", "Targets[0].Remediation must be an object")]
    [InlineData("""{ "Sampling": { "Interval": "10675199.02:48:05" } }""", "Sampling.Interval must be a duration")]
    [InlineData("""{ "Sampling": { "Interval": "9999999999999y" } }""", "Sampling.Interval must be a duration")]
    [InlineData("""{ "Sampling": { "Interval": "36500d" } }""", "Sampling.Interval must be at most 1d, not 36500d")]
    [InlineData("""{ "Sampling": { "Window": "5x" } }""", "Sampling.Window must be a duration such as 5s, 10m, 1h or 00:00:05")]
    [InlineData("""{ "Targets": [ { "AllowActions": true, "Remediation": { "Trim": { "Enabled": true, "MinInterval": "-1s" } } } ] }""", "Targets[0].Remediation.Trim.MinInterval must be a duration")]
    public void WrongShapesAndExtremeDurations_AreOneLineEach(string json, string expected)
    {
        string path = Write("memwatch.json", json);

        var e = Assert.Throws<ConfigurationException>(() => DaemonConfigurationLoader.Load(path, null, s_noEnvironment));

        string error = Assert.Single(e.Errors);
        Assert.Contains(expected, error);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Durations_PrometheusStyleAndTheOldForm_Everywhere()
    {
        string path = Write("memwatch.json", """
            { "Sampling": { "Interval": "5s", "RollupInterval": "00:00:30", "SmapsInterval": "10m", "IntrospectInterval": "1m30s", "Window": "1h" },
              "Targets": [ { "Name": "api", "AllowActions": true, "Remediation": { "Trim": { "Enabled": true, "MinInterval": "2h" } } } ] }
            """);

        DaemonSettings s = DaemonConfigurationLoader.Load(path, null, new Dictionary<string, string?> { ["MEMWATCH_Sampling__Window"] = "2h30m" });

        Assert.Equal(TimeSpan.FromSeconds(5), s.Sampling.Interval);
        Assert.Equal(TimeSpan.FromSeconds(30), s.Sampling.RollupInterval);
        Assert.Equal(TimeSpan.FromMinutes(10), s.Sampling.SmapsInterval);
        Assert.Equal(TimeSpan.FromSeconds(90), s.Sampling.IntrospectInterval);
        Assert.Equal(TimeSpan.FromMinutes(150), s.Sampling.Window);
        Assert.Equal(TimeSpan.FromHours(2), s.Rules[0].Trim.MinInterval);
    }

    /// <summary>Every TimeSpan option is named so that Prometheus-style durations reach it (a new option must be too).</summary>
    [Fact]
    public void EveryDurationOption_AcceptsPrometheusStyle()
    {
        var missing = new List<string>();
        Visit(typeof(DaemonOptions), "");
        Assert.Empty(missing);

        void Visit(Type type, string path)
        {
            foreach (PropertyInfo p in type.GetProperties())
            {
                Type t = p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(List<>) ? p.PropertyType.GetGenericArguments()[0] : p.PropertyType;
                if (Nullable.GetUnderlyingType(t) is { } inner)
                {
                    t = inner;
                }

                if (t == typeof(TimeSpan) && !ConfigurationShape.IsDurationKey(p.Name))
                {
                    missing.Add(path + p.Name);
                }
                else if (t.IsClass && t.Namespace == typeof(DaemonOptions).Namespace)
                {
                    Visit(t, path + p.Name + ".");
                }
            }
        }
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("fifo")]
    [InlineData("world")]
    [InlineData("large")]
    [InlineData("other-owner")]
    [InlineData("group-writable")]
    public async Task TokenFile_SpecialUnboundedOrExposed_IsRefused(string kind)
    {
        string token = Path.Combine(_dir, "token");
        switch (kind)
        {
            case "zero":
                token = "/dev/zero";
                break;
            case "fifo":
                Run("mkfifo", token);
                break;
            default:
                File.WriteAllText(token, kind == "large" ? new string('x', 5000) : "0123456789abcdef-token\n");
                File.SetUnixFileMode(token, kind switch
                {
                    "world" => (UnixFileMode)0x1A4, // 0644
                    "group-writable" => (UnixFileMode)0x1B0, // 0660
                    _ => (UnixFileMode)0x180, // 0600
                });
                if (kind == "other-owner")
                {
                    Run("chown", "65534", token);
                }

                break;
        }

        var options = new DaemonOptions { Auth = new AuthOptions { TokenFile = token } };
        Task<ConfigurationException> load = Task.Run(() => Assert.Throws<ConfigurationException>(() => DaemonConfigurationLoader.Validate(options, null)));

        // A FIFO opened blocking waits for a writer for ever, /dev/zero is read until memory runs out: a minute is plenty.
        ConfigurationException e = await load.WaitAsync(TimeSpan.FromMinutes(1));
        string error = Assert.Single(e.Errors);
        Assert.StartsWith($"Auth.TokenFile {token}", error);
    }

    [Fact]
    public void TokenFile_GroupReadable_IsWarnedAbout()
    {
        string token = Write("token", "0123456789abcdef-token\n");
        File.SetUnixFileMode(token, (UnixFileMode)0x1A0); // 0640

        DaemonSettings s = DaemonConfigurationLoader.Validate(new DaemonOptions { Auth = new AuthOptions { TokenFile = token } }, null);

        Assert.NotNull(s.Token);
        Assert.Contains(s.Warnings, w => w.Contains("mode 0640", StringComparison.Ordinal) && w.Contains("can read the token", StringComparison.Ordinal));
    }

    /// <summary>Through the published executable: what crashed (exit 134), hung or ran the catch-all rule on main.</summary>
    [Theory]
    [InlineData("""{ "Sampling": { "Interval": "10675199.02:48:05" } }""", null)]
    [InlineData("""{ "Targets": { "Name": "api" } }""", null)]
    [InlineData("""{ "Auth": { "TokenFile": "/dev/zero" } }""", null)]
    [InlineData(null, "/dev/zero")]
    public void Run_ExtremeConfiguration_OneConfigLineAndExit2(string? json, string? configPath)
    {
        string path = configPath ?? Write("memwatch.json", json!);

        MemwatchCli.Result r = MemwatchCli.Run(["run", "--config", path], TimeSpan.FromSeconds(60));

        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("memwatch: config: ", line);
    }

    [Fact]
    public void CheckConfig_PrintsTheEffectiveConfigurationWithTheTokenMasked()
    {
        string token = Write("token", "0123456789abcdef-secret-token\n");
        File.SetUnixFileMode(token, (UnixFileMode)0x180);
        string path = Write("memwatch.json", $$"""{ "Auth": { "TokenFile": "{{token}}" }, "Sampling": { "Interval": "00:00:02", "Window": "90m" } }""");

        MemwatchCli.Result r = MemwatchCli.Run(["run", "--config", path, "--check-config"], TimeSpan.FromSeconds(60));

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.DoesNotContain("secret-token", r.StandardOutput);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement root = doc.RootElement;
        Assert.Equal("127.0.0.1:9487", root.GetProperty("Listen").GetString());
        Assert.Equal("<masked: 29 bytes loaded>", root.GetProperty("Auth").GetProperty("Token").GetString());
        Assert.Equal("2s", root.GetProperty("Sampling").GetProperty("Interval").GetString());
        Assert.Equal("1h30m", root.GetProperty("Sampling").GetProperty("Window").GetString());
        Assert.Equal("default", root.GetProperty("Targets")[0].GetProperty("Name").GetString());

        File.WriteAllText(path, """{ "Sampling": { "Interval": "soon" } }""");
        r = MemwatchCli.Run(["run", "--config", path, "--check-config"], TimeSpan.FromSeconds(60));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.StandardOutput);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static void Run(string program, params string[] args)
    {
        using Process p = Process.Start(program, args)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}

using System.Text.Json;
using MemWatch.Daemon.History;

namespace MemWatch.Daemon.Tests.History;

/// <summary>`memwatch history` as a user runs it, against a database the test filled (the writer still open).</summary>
public sealed class HistoryCommandTests : IDisposable
{
    private const int Pid = 4242;
    private readonly TempStateDirectory _dir = new();
    private readonly HistoryStore _writer;
    private readonly DateTimeOffset _now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    public HistoryCommandTests()
    {
        _writer = HistoryStore.Open(_dir.Path, new HistoryOptions());

        // An older process that had the same PID, then the current one: samples 30, 20 and 10 minutes ago, then
        // two 5 s apart a minute ago (the allocator introspected in the last one).
        _writer.Writer.AppendSamples([Samples.At(Pid, 100, _now.AddMinutes(-50), 7 << 20, comm: "previous")]);
        _writer.Writer.AppendAudit(new AuditEntry(_now.AddMinutes(-50), "policy:old", Pid, 100, "previous", "trim", "failed", null, null, null, "old process"));
        foreach (int minutesAgo in new[] { 30, 20, 10 })
        {
            _writer.Writer.AppendSamples([Samples.At(Pid, 900, _now.AddMinutes(-minutesAgo), (ulong)(100 - minutesAgo) << 20)]);
        }

        _writer.Writer.AppendSamples([Samples.At(Pid, 900, _now.AddMinutes(-1), 200 << 20)]);
        _writer.Writer.AppendSamples([Samples.At(Pid, 900, _now.AddMinutes(-1).AddSeconds(5), 201 << 20, inUse: 150 << 20, free: 40 << 20)]);
        _writer.Writer.RecordVerdictChange(new VerdictChange(Pid, 900, "worker", _now.AddMinutes(-20), "allocator-retention", "glibc-top-chunk", 0.82, "free memory pinned under the top chunk"));
        _writer.Writer.AppendAudit(new AuditEntry(_now.AddMinutes(-5), "policy:api", Pid, 900, "worker", "trim", "released", 900 << 20, 500 << 20, 400 << 20, "malloc_trim(0)"));
        _writer.Writer.AppendSamples([Samples.At(7, 1, _now.AddMinutes(-1), 1 << 20, comm: "other")]);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void TextShowsSamplesVerdictsAndAuditOfTheLatestIncarnation()
    {
        MemwatchCli.Result r = MemwatchCli.Run(["history", Pid.ToString(), "--state-dir", _dir.Path]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        string[] lines = r.StandardOutput.Split('\n');
        Assert.StartsWith($"pid {Pid}  worker  starttime 900", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("TIME (UTC)", StringComparison.Ordinal) && l.Contains("ALLOC IN USE"));
        string[] rows = lines.Where(l => l.StartsWith(_now.UtcDateTime.ToString("yyyy-MM-dd"), StringComparison.Ordinal) || l.StartsWith(_now.AddMinutes(-30).UtcDateTime.ToString("yyyy-MM-dd"), StringComparison.Ordinal)).ToArray();
        Assert.Equal(5 + 1 + 1, rows.Length); // samples, verdict change, audit entry
        Assert.Contains(lines, l => l.Contains("  200 MiB") && l.TrimEnd().EndsWith("-", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("  201 MiB") && l.Contains("1.00") && l.Contains("150 MiB") && l.Contains("40.0 MiB"));
        Assert.Contains(lines, l => l.Contains("allocator-retention (glibc-top-chunk)  confidence 0.82  free memory pinned under the top chunk"));
        Assert.Contains(lines, l => l.Contains("trim released  by policy:api  RSS 900 MiB -> 500 MiB  released 400 MiB  malloc_trim(0)"));
        Assert.DoesNotContain("previous", r.StandardOutput);
        Assert.DoesNotContain("7.00 MiB", r.StandardOutput);
    }

    [Fact]
    public void JsonCarriesTheSameWithRatesAndNulls()
    {
        MemwatchCli.Result r = MemwatchCli.Run(["history", Pid.ToString(), "--state-dir", _dir.Path, "--json"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement root = doc.RootElement;
        Assert.Equal(Pid, root.GetProperty("pid").GetInt32());
        Assert.Equal(900ul, root.GetProperty("startTimeTicks").GetUInt64());
        Assert.Equal("worker", root.GetProperty("command").GetString());
        JsonElement[] samples = [.. root.GetProperty("samples").EnumerateArray()];
        Assert.Equal(5, samples.Length);
        Assert.Equal(70ul << 20, samples[0].GetProperty("rssBytes").GetUInt64());
        Assert.Equal(JsonValueKind.Null, samples[0].GetProperty("minorFaultsPerSecond").ValueKind);
        Assert.Equal(JsonValueKind.Null, samples[0].GetProperty("allocatorInUseBytes").ValueKind);

        // Minor faults count one per second of Unix time in the synthetic samples.
        Assert.Equal(1.0, samples[4].GetProperty("minorFaultsPerSecond").GetDouble(), 9);
        Assert.Equal(0.0, samples[4].GetProperty("majorFaultsPerSecond").GetDouble());
        Assert.Equal(150.0 * (1 << 20), samples[4].GetProperty("allocatorInUseBytes").GetDouble());
        Assert.Equal(0, samples[4].GetProperty("resolutionSeconds").GetInt32());
        Assert.Equal(_now.AddMinutes(-1).AddSeconds(5), samples[4].GetProperty("at").GetDateTimeOffset());

        JsonElement verdict = Assert.Single(root.GetProperty("verdictChanges").EnumerateArray());
        Assert.Equal("allocator-retention", verdict.GetProperty("kind").GetString());
        Assert.Equal(0.82, verdict.GetProperty("confidence").GetDouble());
        JsonElement audit = Assert.Single(root.GetProperty("audit").EnumerateArray());
        Assert.Equal(400L << 20, audit.GetProperty("releasedBytes").GetInt64());
        Assert.Equal("policy:api", audit.GetProperty("actor").GetString());
    }

    [Fact]
    public void SinceBoundsTheSamples()
    {
        MemwatchCli.Result r = MemwatchCli.Run(["history", Pid.ToString(), "--state-dir", _dir.Path, "--json", "--since", "15m"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        Assert.Equal(3, doc.RootElement.GetProperty("samples").GetArrayLength());

        MemwatchCli.Result all = MemwatchCli.Run(["history", Pid.ToString(), "--state-dir", _dir.Path, "--json", "--since", "36500d"]);
        Assert.True(all.ExitCode == 0, all.StandardError);
        using JsonDocument allDoc = JsonDocument.Parse(all.StandardOutput);
        Assert.Equal(5, allDoc.RootElement.GetProperty("samples").GetArrayLength());

        MemwatchCli.Result none = MemwatchCli.Run(["history", Pid.ToString(), "--state-dir", _dir.Path, "--since", "30s"]);
        Assert.True(none.ExitCode == 0, none.StandardError);
        Assert.Contains("(none; the last was at", none.StandardOutput);
    }

    [Fact]
    public void UnknownPidOrNoDatabaseIsExit3()
    {
        MemwatchCli.Result unknown = MemwatchCli.Run(["history", "4243", "--state-dir", _dir.Path]);
        Assert.Equal(3, unknown.ExitCode);
        Assert.Equal($"memwatch: no history for pid 4243 in {_dir.DatabasePath}", unknown.StandardError.Trim());
        Assert.Empty(unknown.StandardOutput);

        using var empty = new TempStateDirectory();
        MemwatchCli.Result missing = MemwatchCli.Run(["history", Pid.ToString(), "--state-dir", empty.Path]);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no history database in " + empty.Path, missing.StandardError);
        Assert.Empty(Directory.GetFileSystemEntries(empty.Path));
    }

    [Theory]
    [InlineData("history", "0")]
    [InlineData("history", "abc")]
    [InlineData("history", "4242", "--since", "-5m")]
    [InlineData("history", "4242", "--since", "soon")]
    [InlineData("history", "4242", "--since", "100000d")]
    [InlineData("history")]
    public void BadUsageIsExit2(params string[] args)
    {
        MemwatchCli.Result r = MemwatchCli.Run([.. args, "--state-dir", _dir.Path]);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StandardError.Trim().Split('\n'));
    }

    [Fact]
    public void CorruptDatabaseIsExit1WithOneLine()
    {
        using var bad = new TempStateDirectory();
        File.WriteAllText(bad.DatabasePath, string.Concat(Enumerable.Repeat("garbage ", 1000)));

        MemwatchCli.Result r = MemwatchCli.Run(["history", Pid.ToString(), "--state-dir", bad.Path]);

        Assert.Equal(1, r.ExitCode);
        string line = Assert.Single(r.StandardError.Trim().Split('\n'));
        Assert.Contains("is corrupt or not a database", line);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void ADatabaseThisUserCannotReadIsExit4()
    {
        // The directory is open to everyone, the database only to root (as the daemon's StateDirectory= makes it).
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)Convert.ToInt32("755", 8));
        File.SetUnixFileMode(_dir.DatabasePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        MemwatchCli.Result r = MemwatchCli.Run(
            ["history", Pid.ToString(), "--state-dir", _dir.Path],
            prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "env", "HOME=/tmp"]);

        Assert.Equal(4, r.ExitCode);
        Assert.Equal($"memwatch: permission denied reading {_dir.DatabasePath}: run as root or as the daemon's user", r.StandardError.Trim());
    }

    [Fact]
    public void AuditOutlivesExpiredSamples()
    {
        _writer.Retention.Maintain(_now.AddDays(8));

        MemwatchCli.Result r = MemwatchCli.Run(["history", Pid.ToString(), "--state-dir", _dir.Path]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains("trim released  by policy:api", r.StandardOutput);
        Assert.Contains("SAMPLES since", r.StandardOutput);
        Assert.DoesNotContain("old process", r.StandardOutput);
    }
}

using System.Text.Json;
using MemWatch.Daemon.Cli;
using MemWatch.Daemon.Reports;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Snapshots;

namespace MemWatch.Daemon.Tests.Reports;

/// <summary>
/// Locks the <c>inspect --json</c> contract: the document composed from a fixture /proc tree and a fixed window, by
/// the same code as the CLI (<see cref="InspectCommand.Compose"/>), must equal Fixtures/inspect/inspect-watch.json
/// byte for byte. A deliberate change to the contract regenerates it with MEMWATCH_UPDATE_GOLDEN=1 and shows in review.
/// </summary>
public sealed class InspectJsonGoldenTests
{
    private const int Pid = 17094;
    private const ulong KiB = 1UL << 10;
    private static readonly string s_root = Path.Combine(AppContext.BaseDirectory, "Reports", "Fixtures", "inspect");

    [Fact]
    public void Compose_WatchedFixtureProcess_MatchesTheGoldenDocument()
    {
        string json = JsonSerializer.Serialize(ComposeFromFixtures(), ReportJsonContext.Default.InspectReport) + "\n";
        string golden = Path.Combine(s_root, "inspect-watch.json");
        if (Environment.GetEnvironmentVariable("MEMWATCH_UPDATE_GOLDEN") == "1")
        {
            string source = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Reports", "Fixtures", "inspect", "inspect-watch.json"));
            File.WriteAllText(source, json);
        }

        Assert.Equal(File.ReadAllText(golden), json);
    }

    [Fact]
    public void Compose_WatchedFixtureProcess_CarriesTheContractsTopLevelFields()
    {
        using JsonDocument doc = JsonDocument.Parse(JsonSerializer.Serialize(ComposeFromFixtures(), ReportJsonContext.Default.InspectReport));
        JsonElement r = doc.RootElement;

        // No cgroup in the fixture: the forecast is against the host, and the host's PSI reaches it (the daemon's used not to).
        Assert.Contains(r.GetProperty("verdict").GetProperty("kind").GetString(), MemWatch.Probes.Verdicts.VerdictKindNames.All);
        Assert.Equal("host", r.GetProperty("forecast").GetProperty("scope").GetString());
        Assert.Contains("under memory pressure", r.GetProperty("forecast").GetProperty("reason").GetString());
        Assert.Equal(Pid, r.GetProperty("pid").GetInt32());
    }

    private static InspectReport ComposeFromFixtures()
    {
        var fs = new ProcFileSystem(Path.Combine(s_root, "proc"));
        var reader = new ProcessSnapshotReader(fs, null);
        Assert.True(reader.TryCapture(Pid, SnapshotDepth.Full, out ProcessSnapshot? snapshot));
        snapshot = snapshot with { CapturedAt = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000), TimestampMilliseconds = 60_000 };

        // 21 samples over 60 s: anonymous memory growing 5 MiB with the faults that bring it in.
        var window = new SampleWindow(64, TimeSpan.FromHours(1));
        MemorySample last = snapshot.ToSample();
        for (int i = 0; i <= 20; i++)
        {
            ulong grown = (ulong)(20 - i) * 256 * KiB;
            window.Add(last with
            {
                TimestampMilliseconds = i * 3000L,
                RssBytes = last.RssBytes - grown,
                AnonBytes = last.AnonBytes - grown,
                MinorFaults = (ulong)i * 768,
            });
        }

        var buffer = new FileBuffer();
        Assert.True(ProcEnviron.TryRead(fs, Pid, buffer, out ProcEnviron? environment));
        Assert.True(Meminfo.TryRead(fs, buffer, out Meminfo? host));
        Assert.True(PressureStall.TryReadSystem(fs, buffer, out PressureStall? psi));
        return InspectCommand.Compose(snapshot, snapshot, window, environment, host, psi, null, null, null, null, onlineCpus: 2);
    }
}

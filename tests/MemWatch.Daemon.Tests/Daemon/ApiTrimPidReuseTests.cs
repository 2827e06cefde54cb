using System.Globalization;
using System.Net;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// PID reuse through an API trim: the watched process exits and a new one takes its PID (clone3 with set_tid) before the
/// sampler has looked again (30 s interval). The trim is meant for the process the daemon watched: it is refused as
/// process-exited, naming that process, and the newcomer, whose freed heap a trim would release, is left alone.
/// </summary>
public sealed class ApiTrimPidReuseTests
{
    private const string Token = "pid-reuse-token-0123456789abcdef";

    [Fact]
    public void ApiTrimAfterThePidChangedHandsIsRefusedAndTheNewcomerUntouched()
    {
        int pid;
        Workload watched = Workload.Start("seed.cc");
        pid = watched.Pid;
        using DaemonProcess daemon = DaemonProcess.Start(
            config =>
            {
                config["Sampling"] = new Dictionary<string, object?> { ["Interval"] = "00:00:30", ["RollupInterval"] = "00:00:30" };
                config["Targets"] = new object[]
                {
                    new Dictionary<string, object?> { ["Name"] = "meant", ["Pid"] = pid, ["AllowActions"] = true },
                };
            },
            tokenFileContent: Token);
        daemon.GetJson($"/api/targets/{pid}", out HttpStatusCode known);
        Assert.Equal(HttpStatusCode.OK, known);

        ulong watchedStart = PidReuse.StartTicks(pid);
        watched.Dispose();
        using Workload? newcomer = PidReuse.StartWithPid(pid, watchedStart, "seed.cc");
        Assert.NotNull(newcomer);
        newcomer.Send("fill 256");
        newcomer.Send("drop");
        double held = ApiTests.ProcRss(pid);
        Assert.True(held > 200 * 1024 * 1024, $"the newcomer keeps its freed blocks: RSS {held}");

        (HttpStatusCode status, JsonElement body) = daemon.Post($"/api/targets/{pid}/trim", token: Token);
        Assert.NotEqual(HttpStatusCode.OK, status);
        Assert.Equal("process-exited", body.GetProperty("outcome").GetString());
        Assert.Equal(pid, body.GetProperty("pid").GetInt32());
        Assert.Equal("seed", body.GetProperty("comm").GetString());
        Assert.Contains("PID was reused", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(ApiTests.ProcRss(pid) > held * 0.9, $"the newcomer was trimmed: RSS {held} -> {ApiTests.ProcRss(pid)}");
        Assert.False(newcomer.HasExited);
        daemon.AssertLogged($"trim of {pid.ToString(CultureInfo.InvariantCulture)} (seed) by Api");
    }
}

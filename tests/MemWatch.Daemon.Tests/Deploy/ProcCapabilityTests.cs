using System.Diagnostics;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// Why the systemd unit and the Helm chart hold CAP_SYS_PTRACE even in passive mode: an unprivileged reader
/// (nobody, given capabilities through setpriv) can read another user's smaps with CAP_SYS_PTRACE and not with
/// CAP_DAC_READ_SEARCH, and needs both for environ and mem. The table in deploy/systemd/README.md records the rest.
/// </summary>
public sealed class ProcCapabilityTests : IDisposable
{
    private readonly Process _target;

    public ProcCapabilityTests()
    {
        // A process of another user (uid 1, "daemon"): what the reader (uid 65534) finds on a real host.
        var psi = new ProcessStartInfo("setpriv") { UseShellExecute = false, RedirectStandardInput = true };
        foreach (string a in new[] { "--reuid=1", "--regid=1", "--clear-groups", "--", "sleep", "600" })
        {
            psi.ArgumentList.Add(a);
        }

        _target = Process.Start(psi)!;
        // setpriv execs sleep in place: the pid is the target's once its uid has changed.
        var watch = Stopwatch.StartNew();
        while (OwnerOf(_target.Id) != 1 || !File.ReadAllText($"/proc/{_target.Id}/comm").StartsWith("sleep", StringComparison.Ordinal))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the uid-1 target did not start");
            Thread.Sleep(20);
        }
    }

    [Theory]
    [InlineData("smaps", "", false)]
    [InlineData("smaps", "+dac_read_search", false)]
    [InlineData("smaps", "+sys_ptrace", true)]
    [InlineData("smaps_rollup", "+dac_read_search", false)]
    [InlineData("smaps_rollup", "+sys_ptrace", true)]
    [InlineData("environ", "+sys_ptrace", false)]
    [InlineData("environ", "+sys_ptrace,+dac_read_search", true)]
    [InlineData("status", "", true)]
    public void ReadingAnotherUsersProcFile(string file, string caps, bool readable)
    {
        List<string> args = ["--reuid=65534", "--regid=65534", "--clear-groups"];
        args.AddRange(caps.Length == 0 ? ["--inh-caps=-all"] : [$"--inh-caps={caps}", $"--ambient-caps={caps}"]);
        args.AddRange(["--", "head", "-c", "1", $"/proc/{_target.Id}/{file}"]);

        ExternalTool.Result r = ExternalTool.Run("setpriv", args);

        Assert.False(_target.HasExited);
        Assert.True(readable == (r.ExitCode == 0), $"{file} with [{caps}]: exit {r.ExitCode} {r.StandardError}");
        if (!readable)
        {
            Assert.Contains("Permission denied", r.StandardError, StringComparison.Ordinal);
        }
    }

    public void Dispose()
    {
        if (!_target.HasExited)
        {
            _target.Kill();
            _target.WaitForExit(10_000);
        }

        _target.Dispose();
    }

    private static int OwnerOf(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }
}

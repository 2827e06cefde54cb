using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// The unit's SystemCallFilter= against the real .NET runtime, without systemd: <c>memwatch inspect</c> runs under
/// strace, which makes every system call the filter would refuse fail with EPERM (the unit's SystemCallErrorNumber),
/// and must still produce a full report. This found that CoreCLR (a JIT-compiled build) does not start without
/// sched_setaffinity; the ahead-of-time compiled memwatch that ships never calls it.
/// </summary>
public sealed class UnitSyscallFilterTests
{
    private static readonly Dictionary<string, HashSet<string>> s_groups = [];

    [Fact]
    public void InspectRunsWithTheCallsTheUnitRefusesFailing()
    {
        HashSet<string> allowed = AllowedBy(DeployTree.ReadAllText("systemd", "memwatch.service"));
        Assert.Contains("openat", allowed);
        Assert.DoesNotContain("ptrace", allowed);
        Assert.DoesNotContain("process_vm_writev", allowed);

        using Workload w = Workload.Start("cgroup_alloc.c");
        Assert.StartsWith("OK", w.Send("alloc 16"), StringComparison.Ordinal);
        using var dir = new TempDirectory();
        string trace = dir.Combine("trace.txt");

        // "?name": strace ignores names it does not know on this architecture (the groups list every ABI's).
        string allowList = string.Join(',', allowed.Order(StringComparer.Ordinal).Select(s => "?" + s));
        MemwatchCli.Result r = MemwatchCli.Run(
            ["inspect", w.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"],
            timeout: TimeSpan.FromMinutes(5),
            prefix: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=all", "-e", $"inject=!{allowList}:error=EPERM"]);

        string refused = string.Join('\n', File.ReadLines(trace).Where(l => l.Contains("(INJECTED)", StringComparison.Ordinal)).Take(20));
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.StandardError}\nrefused calls:\n{refused}");
        using JsonDocument report = JsonDocument.Parse(r.StandardOutput);
        Assert.True(report.RootElement.GetProperty("rssBytes").GetInt64() >= 16L << 20);
        Assert.NotEmpty(report.RootElement.GetProperty("regions").EnumerateArray());
    }

    /// <summary>
    /// MemoryDenyWriteExecute=yes: no mapping may gain PROT_EXEC, none may be writable and executable. The kernel's own
    /// form of it (prctl PR_SET_MDWE, which newer systemd uses and older systemd emulates with seccomp) is applied by
    /// mdwe_exec, which first checks that the kernel refuses an mprotect(PROT_EXEC). A JIT-compiled memwatch.dll dies
    /// of SIGSEGV under it; the published, ahead-of-time compiled memwatch reports and serves. Covers the CLI and the
    /// daemon (Kestrel, SQLite loaded by dlopen, the sampler's first rollup and smaps pass).
    /// </summary>
    [Fact]
    public void MemwatchRunsUnderMemoryDenyWriteExecute()
    {
        Assert.Contains("\nMemoryDenyWriteExecute=yes\n", DeployTree.ReadAllText("systemd", "memwatch.service"), StringComparison.Ordinal);
        string mdwe = Workload.Build("mdwe_exec.c");

        using Workload w = Workload.Start("cgroup_alloc.c");
        Assert.StartsWith("OK", w.Send("alloc 16"), StringComparison.Ordinal);
        string pid = w.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        MemwatchCli.Result r = MemwatchCli.Run(["inspect", pid, "--json"], timeout: TimeSpan.FromMinutes(2), prefix: [mdwe]);
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.StandardError}");
        using (JsonDocument report = JsonDocument.Parse(r.StandardOutput))
        {
            Assert.True(report.RootElement.GetProperty("rssBytes").GetInt64() >= 16L << 20);
            Assert.NotEmpty(report.RootElement.GetProperty("regions").EnumerateArray());
        }

        using DaemonProcess daemon = DaemonProcess.Start(
            config =>
            {
                config["Sampling"] = TestConfig.FastSampling();
                config["Targets"] = new object[] { new Dictionary<string, object?> { ["Name"] = "w", ["Pid"] = w.Pid } };
            },
            prefix: [mdwe]);
        Poll.Until(
            () => MetricsText.Value(daemon.Metrics(), "memwatch_process_region_resident_bytes", $"pid=\"{pid}\"", "region=\"heap\"") is not null,
            TimeSpan.FromSeconds(60), () => daemon.Output);
        JsonElement targets = daemon.GetJson("/api/targets", out System.Net.HttpStatusCode status);
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Equal(w.Pid, Assert.Single(targets.EnumerateArray()).GetProperty("pid").GetInt32());
        daemon.Terminate(TimeSpan.FromSeconds(30));
        Assert.Equal(0, daemon.ExitCode);
        Assert.True(File.Exists(Path.Combine(daemon.Directory, "state", "history.db")), daemon.Output);
    }

    [Fact]
    public void TheIntrospectDropInAllowsWritingIntoTargets()
    {
        string unit = DeployTree.ReadAllText("systemd", "memwatch.service") + "\n" + DeployTree.ReadAllText("systemd", "memwatch-introspect.conf");

        HashSet<string> allowed = AllowedBy(unit);

        Assert.Contains("ptrace", allowed);
        Assert.Contains("process_vm_writev", allowed);
        Assert.Contains("process_vm_readv", allowed);
        Assert.Contains("wait4", allowed);
    }

    /// <summary>
    /// systemd's reading of successive SystemCallFilter= lines: the first (not starting with ~) is the allow list,
    /// later ~lines remove from it, later plain lines add to it.
    /// </summary>
    private static HashSet<string> AllowedBy(string unitText)
    {
        HashSet<string>? allowed = null;
        foreach (string line in unitText.Split('\n'))
        {
            if (!line.StartsWith("SystemCallFilter=", StringComparison.Ordinal))
            {
                continue;
            }

            string value = line["SystemCallFilter=".Length..].Trim();
            bool deny = value.StartsWith('~');
            var calls = new HashSet<string>(value.TrimStart('~').Split(' ', StringSplitOptions.RemoveEmptyEntries).SelectMany(Expand));
            if (allowed is null)
            {
                Assert.False(deny, "the unit's first SystemCallFilter= must be an allow list");
                allowed = calls;
            }
            else if (deny)
            {
                allowed.ExceptWith(calls);
            }
            else
            {
                allowed.UnionWith(calls);
            }
        }

        Assert.NotNull(allowed);
        return allowed;
    }

    /// <summary>A system call, or the members of a group as this systemd defines it (groups nest).</summary>
    private static IEnumerable<string> Expand(string item)
    {
        if (!item.StartsWith('@'))
        {
            return [item];
        }

        lock (s_groups)
        {
            if (!s_groups.TryGetValue(item, out HashSet<string>? members))
            {
                ExternalTool.Result r = ExternalTool.Run("systemd-analyze", ["syscall-filter", "--no-pager", item]);
                Assert.True(r.ExitCode == 0, r.Output);
                members = [];
                foreach (string raw in r.StandardOutput.Split('\n').Skip(1))
                {
                    string entry = raw.Trim();
                    if (entry.Length > 0 && !entry.StartsWith('#'))
                    {
                        members.UnionWith(entry.StartsWith('@') ? Expand(entry) : [entry]);
                    }
                }

                Assert.NotEmpty(members);
                s_groups[item] = members;
            }

            return members;
        }
    }
}

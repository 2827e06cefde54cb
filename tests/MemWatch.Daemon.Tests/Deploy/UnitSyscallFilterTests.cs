using System.Text.Json;
using MemWatch.IntegrationTests.Support;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// The unit's SystemCallFilter= against the real .NET runtime, without systemd: <c>memwatch inspect</c> runs under
/// strace, which makes every system call the filter would refuse fail with EPERM (the unit's SystemCallErrorNumber),
/// and must still produce a full report. This found that CoreCLR does not start without sched_setaffinity.
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
    /// MemoryDenyWriteExecute=yes refuses every mprotect(2) that adds PROT_EXEC; the runtime makes such calls (JIT and
    /// stubs), so the unit leaves it off. Should a build of memwatch stop making them (NativeAOT), this fails: turn
    /// it on then.
    /// </summary>
    [Fact]
    public void MemoryDenyWriteExecuteStaysOffBecauseTheRuntimeMakesCodeExecutable()
    {
        Assert.Contains("\nMemoryDenyWriteExecute=no\n", DeployTree.ReadAllText("systemd", "memwatch.service"), StringComparison.Ordinal);

        using Workload w = Workload.Start("cgroup_alloc.c");
        using var dir = new TempDirectory();
        string trace = dir.Combine("trace.txt");
        MemwatchCli.Result r = MemwatchCli.Run(
            ["inspect", w.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"],
            timeout: TimeSpan.FromMinutes(5),
            prefix: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=mprotect"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains(File.ReadLines(trace), l => l.Contains("mprotect(", StringComparison.Ordinal) && l.Contains("PROT_EXEC", StringComparison.Ordinal) && l.EndsWith("= 0", StringComparison.Ordinal));
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

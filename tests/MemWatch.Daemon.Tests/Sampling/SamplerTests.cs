using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.ProcFs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MemWatch.Daemon.Tests.Sampling;

/// <summary>
/// The sampler over a proc root made of files copied from this test process: a target that exits, one whose files
/// become unreadable or garbled, and a PID taken over by another process. The sampler's clock is a fake one: a tick
/// happens when the test says, and time passes only when it advances it.
/// </summary>
public sealed class SamplerTests : IDisposable
{
    private const int PidA = 4_000_001;
    private const int PidB = 4_000_002;
    private readonly string _root = Directory.CreateTempSubdirectory("memwatch-fakeproc-").FullName;
    private readonly TargetRegistry _registry = new();
    private readonly DaemonHealth _health = new();
    private readonly FakeTimeProvider _time = new();
    private readonly Sampler _sampler;

    public SamplerTests()
    {
        File.Copy("/proc/meminfo", Path.Combine(_root, "meminfo"));
        AddProcess(PidA);
        AddProcess(PidB);
        DaemonSettings settings = DaemonConfigurationLoader.Validate(new DaemonOptions { Targets = [new TargetOptions { Name = "all" }] }, null);
        _sampler = new Sampler(new ProcFileSystem(_root), settings, _registry, _health,
            new TargetAnalyzer(new ProcFileSystem(_root), NullLogger<TargetAnalyzer>.Instance), new NullSampleSink(), NullLogger<Sampler>.Instance, _time);
    }

    [Fact]
    public void TargetsAreDiscoveredSampledAndDroppedQuietlyWhenTheyExit()
    {
        _sampler.Tick();
        Assert.Equal(2, _registry.Count);
        Assert.True(_registry.TryGet(PidA, out TargetState? a));
        Assert.True(a.Counters.RssBytes > 0);
        Assert.Equal(1, a.Window.Count);
        Assert.True(_registry.FirstTick.IsCompleted);

        Directory.Delete(Path.Combine(_root, PidB.ToString()), recursive: true);
        Later();
        _sampler.Tick();
        Assert.Equal(1, _registry.Count);
        Assert.False(_registry.TryGet(PidB, out _));
        Assert.Equal(2, a.Window.Count);
        Assert.Equal(0, TotalErrors());
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void AGarbledOrUnreadableTargetIsCountedAndDroppedAndTheTickGoesOn()
    {
        _sampler.Tick();
        File.WriteAllText(Path.Combine(_root, PidA.ToString(), "stat"), "garbage without the fields\n");

        // The sampler holds status and stat open, and the kernel checks permission at open only: B's held files must
        // stop looking like a live process (as a zombie's: RSS 0 in stat, no VmRSS in status) before the sampler
        // opens them by path again.
        SetStatField(PidB, 24, "0");
        string statusB = Path.Combine(_root, PidB.ToString(), "status");
        File.WriteAllLines(statusB, File.ReadAllLines(statusB).Where(l => !l.StartsWith("Vm", StringComparison.Ordinal) && !l.StartsWith("Rss", StringComparison.Ordinal)));
        File.SetUnixFileMode(statusB, UnixFileMode.None);
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);

        // Root reads every file: the tick runs as nobody for file access, so the mode 000 file is a real EACCES.
        UnprivilegedFiles.Run(_sampler.Tick);
        Assert.Equal(0, _registry.Count);
        Assert.Equal(1, _health.Errors(SampleErrorReason.Malformed));
        Assert.Equal(1, _health.Errors(SampleErrorReason.PermissionDenied));
        Assert.Equal(2, _health.Ticks);
    }

    [Fact]
    public void APidTakenOverByAnotherProcessStartsAFreshTarget()
    {
        _sampler.Tick();
        Assert.True(_registry.TryGet(PidA, out TargetState? before));

        string stat = Path.Combine(_root, PidA.ToString(), "stat");
        string[] fields = File.ReadAllText(stat).Split(' ');
        int close = Array.FindIndex(fields, f => f.EndsWith(')'));
        fields[close + 20] = (ulong.Parse(fields[close + 20], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(stat, string.Join(' ', fields));
        Later();

        _sampler.Tick();
        Assert.True(_registry.TryGet(PidA, out TargetState? after));
        Assert.NotSame(before, after);
        Assert.True(before.Exited);
        Assert.Equal(before.StartTimeTicks + 1, after.StartTimeTicks);
        Assert.Equal(1, after.Window.Count);
    }

    [Fact]
    public void RollupsOfASteadyTargetStretchToFourIntervalsAndComeBackWhenRssMoves()
    {
        string dir = Path.Combine(_root, PidA.ToString());
        File.WriteAllBytes(Path.Combine(dir, "smaps_rollup"), File.ReadAllBytes("/proc/self/smaps_rollup"));
        long interval = (long)TimeSpan.FromSeconds(30).TotalMilliseconds;

        _sampler.Tick();
        Assert.True(_registry.TryGet(PidA, out TargetState? a));
        Assert.Equal(1, a.RollupStretch);
        Assert.NotNull(a.PssBytes);

        // Each forced rollup that finds RSS unchanged doubles the stretch, up to 4.
        foreach (int expected in new[] { 2, 4, 4 })
        {
            a.NextRollupTicks = 0;
            Later();
            _sampler.Tick();
            Assert.Equal(expected, a.RollupStretch);
            Assert.Equal(interval * a.RollupBackoff * expected, a.NextRollupTicks - a.LastRollupTicks);
        }

        // RSS 10% higher: the next tick pulls the rollup to the normal interval after the last one.
        long last = a.LastRollupTicks;
        ulong kib = a.Counters.RssBytes / 1024;
        SetRss(PidA, kib + kib / 10 + 2048);
        Later();
        _sampler.Tick();
        Assert.Equal(last + interval * a.RollupBackoff, a.NextRollupTicks);

        // Once that rollup has run, having seen RSS move, the stretch is back to 1.
        a.NextRollupTicks = 0;
        Later();
        _sampler.Tick();
        Assert.Equal(1, a.RollupStretch);
        Assert.Equal(interval * a.RollupBackoff, a.NextRollupTicks - a.LastRollupTicks);
    }

    [Fact]
    public void UnderAMinimumRssRuleSmallProcessesAreSkippedOnStatmAlone()
    {
        DaemonSettings settings = DaemonConfigurationLoader.Validate(
            new DaemonOptions { Targets = [new TargetOptions { Name = "big", MinRssMiB = 1 }] }, null);
        var registry = new TargetRegistry();
        var sampler = new Sampler(new ProcFileSystem(_root), settings, registry, new DaemonHealth(),
            new TargetAnalyzer(new ProcFileSystem(_root), NullLogger<TargetAnalyzer>.Instance), new NullSampleSink(), NullLogger<Sampler>.Instance, _time);

        // B's statm claims 4 KiB resident (its status still says otherwise): it is not even read further.
        File.WriteAllText(Path.Combine(_root, PidB.ToString(), "statm"), "100 1 0 1 0 50 0\n");
        sampler.Tick();
        Assert.True(registry.TryGet(PidA, out _));
        Assert.False(registry.TryGet(PidB, out _));
        Assert.Equal(1, registry.Count);
    }

    /// <summary>On the real /proc: a watched process is read through its held status and stat, which are let go when it exits.</summary>
    [Fact]
    public void ARealProcessIsReadThroughHeldFilesUntilItExits()
    {
        using var sleeper = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var registry = new TargetRegistry();
            var health = new DaemonHealth();
            Sampler sampler = RealProcSampler(sleeper.Id, registry, health);

            sampler.Tick();
            Assert.True(registry.TryGet(sleeper.Id, out TargetState? target));
            Assert.NotNull(target.HeldFiles);
            Later();
            sampler.Tick();
            Assert.Equal(2, target.Window.Count);
            Assert.NotNull(target.HeldFiles);

            sleeper.Kill();
            sleeper.WaitForExit();
            sampler.Tick();
            Assert.False(registry.TryGet(sleeper.Id, out _));
            Assert.True(target.Exited);
            Assert.Null(target.HeldFiles);
            Assert.Equal(0, Enum.GetValues<SampleErrorReason>().Sum(health.Errors));
        }
        finally
        {
            if (!sleeper.HasExited)
            {
                sleeper.Kill();
            }
        }
    }

    /// <summary>
    /// On the real /proc: an idle process's status is read once, then carried forward. stat's RSS and status's VmRSS
    /// differ on recent kernels (approximate and exact sums of the per-CPU counters), so comparing the two would read
    /// status at every tick.
    /// </summary>
    [Fact]
    public void AnIdleRealProcessHasItsStatusReadOnceAndCarriedForward()
    {
        using var sleeper = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var registry = new TargetRegistry();
            Sampler sampler = RealProcSampler(sleeper.Id, registry, new DaemonHealth());

            // Until the sleeper is asleep in its nanosleep its RSS may still move.
            sampler.Tick();
            Assert.True(registry.TryGet(sleeper.Id, out TargetState? target));
            long firstReading;
            int attempts = 0;
            do
            {
                firstReading = target.LastStatusTicks;
                Thread.Sleep(20);
                Later();
                sampler.Tick();
            }
            while (target.LastStatusTicks != firstReading && ++attempts < 50);

            Assert.Equal(firstReading, target.LastStatusTicks);
            Later();
            sampler.Tick();
            Assert.Equal(firstReading, target.LastStatusTicks);
            Assert.Equal(attempts + 3, target.Window.Count); // every tick still made a sample
        }
        finally
        {
            if (!sleeper.HasExited)
            {
                sleeper.Kill();
            }
        }
    }

    [Fact]
    public void StatusIsReadAgainOnlyWhenStatShowsRssMovedOrAMinuteHasPassed()
    {
        SetRss(PidA, 8192);
        _sampler.Tick();
        Assert.True(_registry.TryGet(PidA, out TargetState? a));
        Assert.Equal(8192UL * 1024, a.Counters.RssBytes);
        Assert.Equal(0UL, a.Counters.SwapBytes);

        // status alone changes (stat's RSS has not): carried forward, not read.
        SetStatusField(PidA, "VmSwap", 300);
        Later();
        _sampler.Tick();
        Assert.Equal(0UL, a.Counters.SwapBytes);
        Assert.Equal(2, a.Window.Count);

        // Just under a minute after the last reading it is still carried forward; a minute after, it is read whatever
        // RSS does.
        _time.Advance(TimeSpan.FromMilliseconds(Sampler.StatusMaxAgeMilliseconds - 10));
        _sampler.Tick();
        Assert.Equal(0UL, a.Counters.SwapBytes);
        Later();
        _sampler.Tick();
        Assert.Equal(300UL * 1024, a.Counters.SwapBytes);

        // RSS moves in stat: status is read at once.
        SetRss(PidA, 9000);
        SetStatusField(PidA, "VmSwap", 100);
        Later();
        _sampler.Tick();
        Assert.Equal(9000UL * 1024, a.Counters.RssBytes);
        Assert.Equal(100UL * 1024, a.Counters.SwapBytes);
        Assert.Equal(5, a.Window.Count);
    }

    [Fact]
    public void AProcessThatMatchedNoRuleTwiceIsLookedAtAgainOnlyAfterTheRecheckInterval()
    {
        DaemonSettings settings = DaemonConfigurationLoader.Validate(
            new DaemonOptions { Targets = [new TargetOptions { Name = "named", Comm = "^target$" }] }, null);
        var registry = new TargetRegistry();
        var sampler = new Sampler(new ProcFileSystem(_root), settings, registry, new DaemonHealth(),
            new TargetAnalyzer(new ProcFileSystem(_root), NullLogger<TargetAnalyzer>.Instance), new NullSampleSink(), NullLogger<Sampler>.Instance, _time);

        // A: no match at the first look, a match at the second (as a process that execs its real program): found.
        sampler.Tick();
        Assert.Equal(0, registry.Count);
        Rename(PidA, "target");
        sampler.Tick();
        Assert.True(registry.TryGet(PidA, out _));

        // B: no match at two looks, then it would match: not looked at until the recheck interval has passed.
        sampler.Tick();
        Rename(PidB, "target");
        sampler.Tick();
        Assert.False(registry.TryGet(PidB, out _));
        _time.Advance(sampler.RejectedRecheck - TimeSpan.FromMilliseconds(1));
        sampler.Tick();
        Assert.False(registry.TryGet(PidB, out _));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        sampler.Tick();
        Assert.True(registry.TryGet(PidB, out _));
    }

    // A sampler of the real /proc with one rule selecting the process by PID.
    private Sampler RealProcSampler(int pid, TargetRegistry registry, DaemonHealth health)
    {
        DaemonSettings settings = DaemonConfigurationLoader.Validate(
            new DaemonOptions { Targets = [new TargetOptions { Name = "sleeper", Pid = pid }] }, null);
        return new Sampler(ProcFileSystem.Default, settings, registry, health,
            new TargetAnalyzer(ProcFileSystem.Default, NullLogger<TargetAnalyzer>.Instance), new NullSampleSink(), NullLogger<Sampler>.Instance, _time);
    }

    /// <summary>The next tick, a moment later: a sample needs a timestamp after the last one's.</summary>
    private void Later() => _time.Advance(TimeSpan.FromMilliseconds(5));

    private void Rename(int pid, string comm)
    {
        string dir = Path.Combine(_root, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(dir, "comm"), comm + "\n");
        string[] lines = File.ReadAllLines(Path.Combine(dir, "status"));
        lines[Array.FindIndex(lines, l => l.StartsWith("Name:", StringComparison.Ordinal))] = "Name:\t" + comm;
        File.WriteAllLines(Path.Combine(dir, "status"), lines);
        string[] fields = File.ReadAllText(Path.Combine(dir, "stat")).Split(' ');
        fields[1] = $"({comm})";
        File.WriteAllText(Path.Combine(dir, "stat"), string.Join(' ', fields));
    }

    /// <summary>RSS in both files, as the kernel reports it: status's VmRSS in KiB, stat's field 24 in pages.</summary>
    private void SetRss(int pid, ulong kib)
    {
        SetStatusField(pid, "VmRSS", kib);
        SetStatField(pid, 24, (kib * 1024 / (ulong)Environment.SystemPageSize).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Field <paramref name="number"/> of stat (1-based, as in proc(5)); the copied comm has no spaces.</summary>
    private void SetStatField(int pid, int number, string value)
    {
        string stat = Path.Combine(_root, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "stat");
        string[] fields = File.ReadAllText(stat).Split(' ');
        int close = Array.FindIndex(fields, f => f.EndsWith(')'));
        fields[close + number - 2] = value;
        File.WriteAllText(stat, string.Join(' ', fields));
    }

    private void SetStatusField(int pid, string field, ulong kib)
    {
        string status = Path.Combine(_root, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "status");
        string[] lines = File.ReadAllLines(status);
        int i = Array.FindIndex(lines, l => l.StartsWith(field + ":", StringComparison.Ordinal));
        lines[i] = $"{field}:\t{kib} kB";
        File.WriteAllLines(status, lines);
    }

    private void AddProcess(int pid)
    {
        string dir = Path.Combine(_root, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        foreach (string file in new[] { "status", "stat", "statm", "cmdline", "comm" })
        {
            File.WriteAllBytes(Path.Combine(dir, file), File.ReadAllBytes($"/proc/self/{file}"));
        }

        // Copied a moment apart, the two files' RSS may differ by a few pages; the kernel's agree.
        string vmRss = File.ReadAllLines(Path.Combine(dir, "status")).Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        SetRss(pid, ulong.Parse(vmRss.Split(' ', '\t').Where(p => p.Length > 0).ElementAt(1), System.Globalization.CultureInfo.InvariantCulture));
    }

    private long TotalErrors() =>
        Enum.GetValues<SampleErrorReason>().Sum(_health.Errors);

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

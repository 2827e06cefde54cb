using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class ProcStatusTests
{
    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_MatchesAwkExtraction(string fixture)
    {
        var expected = ProcFixtures.ExpectedFor(fixture);
        Assert.True(ProcStatus.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcStatus? s));

        Assert.Equal(expected.Text("status.State"), s.State.ToString());
        Assert.Equal(expected.I32("status.Tgid"), s.Tgid);
        Assert.Equal(ProcFixtures.Pid(fixture), s.Pid);
        Assert.Equal(expected.I32("status.PPid"), s.PPid);
        Assert.Equal(expected.I32("status.Threads"), s.Threads);
        Assert.Equal(expected.U64("status.Uid.real"), s.RealUid);
        Assert.Equal(expected.U64("status.Uid.effective"), s.EffectiveUid);
        Assert.Equal(expected.U64("status.Gid.real"), s.RealGid);
        Assert.Equal(expected.U64("status.Gid.effective"), s.EffectiveGid);
        Assert.Equal(expected.Text("status.NSpid"), string.Join(' ', s.NSpids));
        Assert.Equal(int.Parse(expected.Text("status.NSpid").Split(' ')[^1]), s.InnermostNSpid);
        Assert.Equal(expected.U64("status.SigBlk"), s.SigBlk);
        Assert.Equal(expected.U64("status.SigIgn"), s.SigIgn);
        Assert.Equal(expected.U64("status.SigCgt"), s.SigCgt);
        Assert.Equal(expected.Bytes("status.VmPeak.bytes"), s.VmPeakBytes);
        Assert.Equal(expected.Bytes("status.VmSize.bytes"), s.VmSizeBytes);
        Assert.Equal(expected.Bytes("status.VmLck.bytes"), s.VmLckBytes);
        Assert.Equal(expected.Bytes("status.VmPin.bytes"), s.VmPinBytes);
        Assert.Equal(expected.Bytes("status.VmHWM.bytes"), s.VmHwmBytes);
        Assert.Equal(expected.Bytes("status.VmRSS.bytes"), s.VmRssBytes);
        Assert.Equal(expected.Bytes("status.RssAnon.bytes"), s.RssAnonBytes);
        Assert.Equal(expected.Bytes("status.RssFile.bytes"), s.RssFileBytes);
        Assert.Equal(expected.Bytes("status.RssShmem.bytes"), s.RssShmemBytes);
        Assert.Equal(expected.Bytes("status.VmData.bytes"), s.VmDataBytes);
        Assert.Equal(expected.Bytes("status.VmStk.bytes"), s.VmStkBytes);
        Assert.Equal(expected.Bytes("status.VmExe.bytes"), s.VmExeBytes);
        Assert.Equal(expected.Bytes("status.VmLib.bytes"), s.VmLibBytes);
        Assert.Equal(expected.Bytes("status.VmPTE.bytes"), s.VmPteBytes);
        Assert.Equal(expected.Bytes("status.VmSwap.bytes"), s.VmSwapBytes);
        Assert.Equal(expected.Bytes("status.HugetlbPages.bytes"), s.HugetlbPagesBytes);
    }

    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_AgreesWithStatmOfTheSameSnapshot(string fixture)
    {
        var buffer = new FileBuffer();
        int pid = ProcFixtures.Pid(fixture);
        Assert.True(ProcStatus.TryRead(ProcFixtures.Fs, pid, buffer, out ProcStatus? s));
        Assert.True(ProcStatm.TryRead(ProcFixtures.Fs, pid, buffer, out ProcStatm? m));

        // Both files come from the same mm counters (fs/proc/task_mmu.c); tasks without an mm print zeros in statm.
        Assert.Equal(s.VmSizeBytes ?? 0, m.SizeBytes);
        Assert.Equal(s.VmRssBytes ?? 0, m.ResidentBytes);
        Assert.Equal((s.RssFileBytes ?? 0) + (s.RssShmemBytes ?? 0), m.SharedBytes);
        Assert.Equal(s.VmExeBytes ?? 0, m.TextBytes);
        Assert.Equal((s.VmDataBytes ?? 0) + (s.VmStkBytes ?? 0), m.DataBytes);
        Assert.Equal(s.VmRssBytes, s.VmRssBytes is null ? null : s.RssAnonBytes + s.RssFileBytes + s.RssShmemBytes);
    }

    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_NameEqualsCommFile(string fixture)
    {
        var buffer = new FileBuffer();
        Assert.True(ProcStatus.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), buffer, out ProcStatus? s));
        string comm = Encoding.UTF8.GetString(ProcFixtures.Bytes(fixture, "comm"))[..^1];
        Assert.Equal(comm, s.Name);
    }

    [Theory]
    [InlineData("comm-parens", "(a)))b")]
    [InlineData("comm-spaces", "x y) (z")]
    [InlineData("comm-newline", "nl\nx) R 1 2")]
    public void TryRead_NameSetByPrctl_ReturnsUnescapedName(string fixture, string name)
    {
        Assert.True(ProcStatus.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcStatus? s));
        Assert.Equal(name, s.Name);
    }

    [Theory]
    [InlineData("kthreadd")]
    [InlineData("kworker-highpri")]
    [InlineData("zombie")]
    public void TryRead_TaskWithoutMm_HasNoMemoryFields(string fixture)
    {
        Assert.True(ProcStatus.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcStatus? s));
        Assert.Null(s.VmRssBytes);
        Assert.Null(s.VmSizeBytes);
        Assert.Null(s.RssAnonBytes);
        Assert.Null(s.VmSwapBytes);
    }

    [Fact]
    public void Parse_WithoutNSpidAndWithUnknownLines_Succeeds()
    {
        string text = Encoding.UTF8.GetString(ProcFixtures.Bytes("glibc", "status"));
        string edited = string.Join('\n', text.Split('\n').Where(l => !l.StartsWith("NSpid:", StringComparison.Ordinal)))
            .Replace("Threads:", "FutureField:\tsomething new\nThreads:", StringComparison.Ordinal);

        ProcStatus s = ProcStatus.Parse(Encoding.UTF8.GetBytes(edited), "status");

        Assert.Empty(s.NSpids);
        Assert.Null(s.InnermostNSpid);
        Assert.Equal(ProcFixtures.ExpectedFor("glibc").I32("status.Threads"), s.Threads);
    }

    [Fact]
    public void Parse_NestedPidNamespace_InnermostIsLast()
    {
        string text = Encoding.UTF8.GetString(ProcFixtures.Bytes("glibc", "status"));
        int pid = ProcFixtures.Pid("glibc");
        string edited = text.Replace($"NSpid:\t{pid}\n", $"NSpid:\t{pid}\t311\t7\n", StringComparison.Ordinal);

        ProcStatus s = ProcStatus.Parse(Encoding.UTF8.GetBytes(edited), "status");

        Assert.Equal([pid, 311, 7], s.NSpids);
        Assert.Equal(7, s.InnermostNSpid);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData(" ", 1)]
    [InlineData("!@#\n", 1)]
    [InlineData("Name:\tx\n", 0)]
    [InlineData("Name:\tx\nVmRSS:\t12\n", 2)]
    [InlineData("Name:\tx\nVmRSS:\t12 MB\n", 2)]
    [InlineData("Name:\tx\nState:\t? (odd)\n", 2)]
    [InlineData("Name:\tx\nSigBlk:\t00zz\n", 2)]
    public void Parse_Malformed_ThrowsWithFileAndLine(string text, int line)
    {
        var e = Assert.Throws<ProcParseException>(() => ProcStatus.Parse(Encoding.UTF8.GetBytes(text), "/proc/9/status"));
        Assert.Equal("/proc/9/status", e.File);
        Assert.Equal(line, e.Line);
        Assert.StartsWith($"/proc/9/status:{line}:", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_TracerAndCapabilitiesMatchTheirLines(string fixture)
    {
        // The lines as the kernel printed them, found with a regex (not the parser's line splitting).
        string text = Encoding.UTF8.GetString(ProcFixtures.Bytes(fixture, "status"));
        int tracer = int.Parse(System.Text.RegularExpressions.Regex.Match(text, @"^TracerPid:\t(\d+)$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value);
        ulong capEff = ulong.Parse(System.Text.RegularExpressions.Regex.Match(text, @"^CapEff:\t([0-9a-f]{16})$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value,
            System.Globalization.NumberStyles.HexNumber);

        Assert.True(ProcStatus.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcStatus? s));

        Assert.Equal(tracer, s.TracerPid);
        Assert.Equal(capEff, s.CapEff);
        Assert.Equal(text.Contains("x86_Thread_features:\tshstk", StringComparison.Ordinal), s.ShadowStackEnabled);
    }

    [Theory]
    [InlineData("x86_Thread_features:\tshstk wrss\n", true)]
    [InlineData("x86_Thread_features:\twrss\n", false)]
    [InlineData("x86_Thread_features:\t\n", false)]
    [InlineData("", false)]
    public void Parse_ShadowStack_FromThreadFeatures(string line, bool expected)
    {
        string text = Encoding.UTF8.GetString(ProcFixtures.Bytes("glibc", "status"));
        ProcStatus s = ProcStatus.Parse(Encoding.UTF8.GetBytes(text + line), "status");
        Assert.Equal(expected, s.ShadowStackEnabled);
    }

    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void ParseStopFields_CapturedProcess_AgreesWithTheFullParse(string fixture)
    {
        byte[] text = ProcFixtures.Bytes(fixture, "status");
        ProcStatus full = ProcStatus.Parse(text, "status");
        Assert.Equal(new ThreadStopFields(full.Tgid, full.Threads, full.Seccomp), ProcStatus.ParseStopFields(text, "status"));
    }

    [Theory]
    [InlineData("Name:\tx\nTgid:\t7\nThreads:\t3\nSeccomp:\t0\nSeccomp_filters:\t0\n", 7, 3, 0)]
    [InlineData("Tgid:\t7\nThreads:\t1\nSeccomp_filters:\t1\nSeccomp:\t2\n", 7, 1, 2)]
    [InlineData("Tgid:\t12\nThreads:\t40\nSeccomp:\t1\n", 12, 40, 1)]
    [InlineData("Name:\tx\nTgid:\t5\nThreads:\t2\nNoNewPrivs:\t0\n", 5, 2, null)]
    public void ParseStopFields_ReadsTheThreeLinesOnly(string text, int tgid, int threads, int? seccomp)
        => Assert.Equal(new ThreadStopFields(tgid, threads, seccomp), ProcStatus.ParseStopFields(Encoding.UTF8.GetBytes(text), "status"));

    [Theory]
    [InlineData("Tgid:\t1\nThreads:\t1\nSeccomp:\t3\n", 3)]
    [InlineData("Tgid:\t1\nThreads:\t1\nSeccomp:\tfilter\n", 3)]
    [InlineData("Name:\tx\nTgid:\tone\n", 2)]
    [InlineData("Tgid:\t1\nThreads:\t-\n", 2)]
    public void ParseStopFields_Malformed_ThrowsWithFileAndLine(string text, int line)
    {
        var e = Assert.Throws<ProcParseException>(() => ProcStatus.ParseStopFields(Encoding.UTF8.GetBytes(text), "/proc/9/task/9/status"));
        Assert.Equal(line, e.Line);
    }

    [Theory]
    [InlineData("Name:\tx\nThreads:\t1\nSeccomp:\t0\n")]
    [InlineData("Tgid:\t1\nSeccomp:\t0\n")]
    public void ParseStopFields_MissingTgidOrThreads_Throws(string text)
        => Assert.Throws<ProcParseException>(() => ProcStatus.ParseStopFields(Encoding.UTF8.GetBytes(text), "status"));
}

using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class ProcStatTests
{
    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_MatchesAwkExtraction(string fixture)
    {
        var expected = ProcFixtures.ExpectedFor(fixture);
        Assert.True(ProcStat.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcStat? s));

        Assert.Equal(ProcFixtures.Pid(fixture), s.Pid);
        Assert.Equal(expected.Text("stat.state"), s.State.ToString());
        Assert.Equal(expected.I32("stat.ppid"), s.PPid);
        Assert.Equal(expected.U64("stat.minflt"), s.MinorFaults);
        Assert.Equal(expected.U64("stat.cminflt"), s.ChildMinorFaults);
        Assert.Equal(expected.U64("stat.majflt"), s.MajorFaults);
        Assert.Equal(expected.U64("stat.cmajflt"), s.ChildMajorFaults);
        Assert.Equal(expected.U64("stat.utime"), s.UserTimeTicks);
        Assert.Equal(expected.U64("stat.stime"), s.SystemTimeTicks);
        Assert.Equal(expected.I32("stat.num_threads"), s.ThreadCount);
        Assert.Equal(expected.U64("stat.starttime"), s.StartTimeTicks);
        Assert.Equal(expected.U64("stat.vsize"), s.VirtualSizeBytes);
        Assert.Equal(expected.U64("stat.rss.pages"), s.RssPages);
        Assert.Equal(expected.U64("stat.rss.pages") * (ulong)Environment.SystemPageSize, s.RssBytes);
    }

    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_AgreesWithStatusAndComm(string fixture)
    {
        var buffer = new FileBuffer();
        int pid = ProcFixtures.Pid(fixture);
        Assert.True(ProcStat.TryRead(ProcFixtures.Fs, pid, buffer, out ProcStat? stat));
        Assert.True(ProcStatus.TryRead(ProcFixtures.Fs, pid, buffer, out ProcStatus? status));
        Assert.True(ProcComm.TryRead(ProcFixtures.Fs, pid, buffer, out ProcComm? comm));

        Assert.Equal(comm.Name, stat.Comm);
        Assert.Equal(status.State, stat.State);
        Assert.Equal(status.PPid, stat.PPid);
        Assert.Equal(status.Threads, stat.ThreadCount);
        Assert.Equal(status.VmSizeBytes ?? 0, stat.VirtualSizeBytes);
    }

    [Theory]
    [InlineData("comm-parens", "(a)))b")]
    [InlineData("comm-spaces", "x y) (z")]
    [InlineData("comm-newline", "nl\nx) R 1 2")]
    public void TryRead_CommWithParenthesesSpacesOrNewline_ReturnsWholeComm(string fixture, string comm)
    {
        Assert.True(ProcStat.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcStat? s));
        Assert.Equal(comm, s.Comm);
        Assert.Equal('S', s.State);
    }

    [Theory]
    [InlineData("(a)))b")]
    [InlineData("(dotnet (nested) space)")]
    [InlineData("kworker/1:0H")]
    [InlineData("x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 (y")]
    [InlineData("")]
    public void Parse_AdversarialComm_FieldsAfterCommUnchanged(string comm)
    {
        (string head, string tail) = SplitAtComm(ProcFixtures.Bytes("glibc", "stat"));
        ProcStat original = ProcStat.Parse(ProcFixtures.Bytes("glibc", "stat"), "stat");

        ProcStat s = ProcStat.Parse(Encoding.UTF8.GetBytes($"{head}({comm}){tail}"), "stat");

        Assert.Equal(comm, s.Comm);
        Assert.Equal(original with { Comm = comm }, s);
    }

    [Fact]
    public void Parse_FieldsAfterRssMissing_ReturnsSameValues()
    {
        byte[] text = ProcFixtures.Bytes("dotnet", "stat");
        (string head, string tail) = SplitAtComm(text);
        string[] fields = tail.TrimEnd('\n').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string shortened = $"{head}(dotnet) {string.Join(' ', fields[..22])}\n";

        ProcStat s = ProcStat.Parse(Encoding.UTF8.GetBytes(shortened), "stat");

        Assert.Equal(ProcStat.Parse(text, "stat"), s);
        Assert.True(fields.Length > 22, "the captured stat has fields after rss, so the test removes some");
    }

    [Fact]
    public void Parse_ExtraTrailingFields_ReturnsSameValues()
    {
        byte[] text = ProcFixtures.Bytes("dotnet", "stat");
        string extended = Encoding.UTF8.GetString(text).TrimEnd('\n') + " 1 2 -3 future\n";

        Assert.Equal(ProcStat.Parse(text, "stat"), ProcStat.Parse(Encoding.UTF8.GetBytes(extended), "stat"));
    }

    [Fact]
    public void Parse_FieldBeforeRssMissing_Throws()
    {
        byte[] text = ProcFixtures.Bytes("dotnet", "stat");
        (string head, string tail) = SplitAtComm(text);
        string[] fields = tail.TrimEnd('\n').Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var e = Assert.Throws<ProcParseException>(() => ProcStat.Parse(Encoding.UTF8.GetBytes($"{head}(dotnet) {string.Join(' ', fields[..21])}\n"), "x/stat"));
        Assert.StartsWith("x/stat:1:", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("12 (x) S 1", 1)]
    [InlineData("12 x S 1\n", 1)]
    [InlineData("ab (x) S 1\n", 1)]
    [InlineData("12 (x)S 1\n", 1)]
    [InlineData("12 (x\ny) S 1 2 3\n", 2)]
    [InlineData("12 (x) S -1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 8 0 0\n", 1)]
    [InlineData("12 (x) S 1 0 0 0 -1 0 -5 0 0 0 0 0 0 0 20 0 1 0 8 0 0 0\n", 1)]
    public void Parse_Malformed_ThrowsWithFileAndLine(string text, int line)
    {
        var e = Assert.Throws<ProcParseException>(() => ProcStat.Parse(Encoding.UTF8.GetBytes(text), "/proc/12/stat"));
        Assert.Equal(line, e.Line);
        Assert.StartsWith($"/proc/12/stat:{line}:", e.Message, StringComparison.Ordinal);
    }

    private static (string Head, string Tail) SplitAtComm(byte[] stat)
    {
        string text = Encoding.UTF8.GetString(stat);
        return (text[..text.IndexOf('(', StringComparison.Ordinal)], text[(text.LastIndexOf(')') + 1)..]);
    }
}

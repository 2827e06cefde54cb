using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class ProcCommTests
{
    [Theory]
    [InlineData("glibc", "procfs-target")]
    [InlineData("dotnet", "dotnet")]
    [InlineData("kthreadd", "kthreadd")]
    [InlineData("comm-parens", "(a)))b")]
    [InlineData("comm-spaces", "x y) (z")]
    [InlineData("comm-newline", "nl\nx) R 1 2")]
    public void TryRead_CapturedProcess_ReturnsNameWithoutNewline(string fixture, string name)
    {
        Assert.True(ProcComm.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcComm? c));
        Assert.Equal(name, c.Name);
    }

    [Fact]
    public void TryRead_Kworker_KeepsSlashAndColon()
    {
        Assert.True(ProcComm.TryRead(ProcFixtures.Fs, ProcFixtures.Pid("kworker-highpri"), new FileBuffer(), out ProcComm? c));
        Assert.Matches(@"^kworker/\d+:\d+H", c.Name);
    }

    [Fact]
    public void Parse_EmptyName_ReturnsEmpty() => Assert.Equal(string.Empty, ProcComm.Parse("\n"u8, "comm").Name);

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("a\0b\n")]
    public void Parse_Malformed_ThrowsWithFile(string text)
    {
        var e = Assert.Throws<ProcParseException>(() => ProcComm.Parse(Encoding.UTF8.GetBytes(text), "/proc/4/comm"));
        Assert.StartsWith($"/proc/4/comm:{e.Line}:", e.Message, StringComparison.Ordinal);
    }
}

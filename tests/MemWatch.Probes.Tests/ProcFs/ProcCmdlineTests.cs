using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class ProcCmdlineTests
{
    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_MatchesTrExtraction(string fixture)
    {
        var expected = ProcFixtures.ExpectedFor(fixture);
        Assert.True(ProcCmdline.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcCmdline? c));

        Assert.Equal(expected.I32("cmdline.argc"), c.Arguments.Count);
        Assert.Equal(expected.Text("cmdline.display"), c.DisplayText);
    }

    [Theory]
    [InlineData("kthreadd")]
    [InlineData("kworker-highpri")]
    [InlineData("zombie")]
    public void TryRead_KernelThreadOrZombie_IsEmpty(string fixture)
    {
        Assert.True(ProcCmdline.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcCmdline? c));
        Assert.True(c.IsEmpty);
        Assert.Equal(string.Empty, c.DisplayText);
    }

    [Fact]
    public void TryRead_DotnetProcess_SplitsHostAndAssembly()
    {
        Assert.True(ProcCmdline.TryRead(ProcFixtures.Fs, ProcFixtures.Pid("dotnet"), new FileBuffer(), out ProcCmdline? c));
        Assert.EndsWith("/dotnet", c.Arguments[0], StringComparison.Ordinal);
        Assert.EndsWith("procfs-dn.dll", c.Arguments[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ArgumentWithNewline_KeptWhole()
    {
        ProcCmdline c = ProcCmdline.Parse(ProcFixtures.Bytes("comm-newline", "cmdline"), "cmdline");
        Assert.Equal("nl\nx) R 1 2", c.Arguments[^1]);
    }

    [Fact]
    public void Parse_SetproctitleWithoutNul_OneArgument()
    {
        ProcCmdline c = ProcCmdline.Parse("postgres: checkpointer   "u8, "cmdline");
        Assert.Equal(["postgres: checkpointer   "], c.Arguments);
    }

    [Fact]
    public void Parse_EmptyArguments_Kept()
    {
        ProcCmdline c = ProcCmdline.Parse("a\0\0b\0"u8, "cmdline");
        Assert.Equal(["a", "", "b"], c.Arguments);
        Assert.Equal("a  b", c.DisplayText);
    }
}

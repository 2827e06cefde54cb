using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class ProcStatmTests
{
    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_MatchesAwkExtraction(string fixture)
    {
        var expected = ProcFixtures.ExpectedFor(fixture);
        Assert.True(ProcStatm.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcStatm? m));

        Assert.Equal(expected.U64("statm.size.bytes"), m.SizeBytes);
        Assert.Equal(expected.U64("statm.resident.bytes"), m.ResidentBytes);
        Assert.Equal(expected.U64("statm.shared.bytes"), m.SharedBytes);
        Assert.Equal(expected.U64("statm.text.bytes"), m.TextBytes);
        Assert.Equal(expected.U64("statm.data.bytes"), m.DataBytes);
    }

    [Fact]
    public void Parse_WithoutDtField_Succeeds()
    {
        ProcStatm m = ProcStatm.Parse("10 5 2 1 0 3\n"u8, "statm");
        ulong page = (ulong)Environment.SystemPageSize;
        Assert.Equal(new ProcStatm(10 * page, 5 * page, 2 * page, 1 * page, 3 * page), m);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("10 5 2 1 0\n")]
    [InlineData("10 5 2 1 0 3")]
    [InlineData("10 5 2 1 0 x 0\n")]
    [InlineData("10 5 2 1 0 3 0 z\n")]
    [InlineData("10 5 2 1 0 3 0\n1\n")]
    [InlineData("18446744073709551615 5 2 1 0 3 0\n")]
    public void Parse_Malformed_ThrowsWithFile(string text)
    {
        var e = Assert.Throws<ProcParseException>(() => ProcStatm.Parse(Encoding.UTF8.GetBytes(text), "/proc/3/statm"));
        Assert.StartsWith($"/proc/3/statm:{e.Line}:", e.Message, StringComparison.Ordinal);
    }
}

using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Cgroups;

public sealed class PressureStallTests
{
    [Theory]
    [InlineData("proc-pressure-memory")]
    [InlineData("proc-pressure-cpu")]
    [InlineData("proc-pressure-io")]
    [InlineData("hybrid/root/sys/fs/cgroup/unified/memwatch-fixture/memory.pressure")]
    [InlineData("v2-composed/root/sys/fs/cgroup/system.slice/memwatch-demo.service/memory.pressure")]
    public void Parse_Fixture_MatchesRegexReading(string relative)
    {
        string path = Path.Combine(CgroupFixtures.Root, relative);

        PressureStall parsed = PressureStall.Parse(File.ReadAllBytes(path), path);

        foreach (string line in File.ReadAllLines(path))
        {
            Match m = Regex.Match(line, @"^(some|full) avg10=([\d.]+) avg60=([\d.]+) avg300=([\d.]+) total=(\d+)$");
            Assert.True(m.Success, line);
            var expected = new PressureStallLine(
                double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture),
                double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture),
                ulong.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture));
            Assert.Equal(expected, m.Groups[1].Value == "some" ? parsed.Some : parsed.Full);
        }
    }

    [Fact]
    public void Parse_NoFullLine_FullIsNull()
    {
        PressureStall parsed = PressureStall.Parse("some avg10=2.50 avg60=1.00 avg300=0.25 total=123456\n"u8, "cpu");

        Assert.Equal(new PressureStallLine(2.5, 1.0, 0.25, 123456), parsed.Some);
        Assert.Null(parsed.Full);
    }

    [Fact]
    public void Parse_UnknownKeysAndLines_AreIgnored()
    {
        PressureStall parsed = PressureStall.Parse(
            "some avg10=1.00 avg60=2.00 avg300=3.00 total=4 avg1=9.9\nfuture avg10=x\nfull avg10=0.10 avg60=0.20 avg300=0.30 total=5\n"u8, "t");

        Assert.Equal(4UL, parsed.Some.TotalMicroseconds);
        Assert.Equal(0.3, parsed.Full!.Value.Avg300);
    }

    [Theory]
    [InlineData("")]
    [InlineData("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")]
    [InlineData("some avg10=0.00 avg60=0.00 avg300=0.00\n")]
    [InlineData("some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n")]
    [InlineData("some avg10=abc avg60=0.00 avg300=0.00 total=0\n")]
    [InlineData("some avg10=-1 avg60=0.00 avg300=0.00 total=0\n")]
    [InlineData("some avg10 avg60=0.00 avg300=0.00 total=0\n")]
    [InlineData("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull total=3\n")]
    public void Parse_Malformed_Throws(string text)
    {
        Assert.Throws<ProcParseException>(() => PressureStall.Parse(Encoding.UTF8.GetBytes(text), "psi"));
    }

    [Fact]
    public void TryReadSystem_ProcRootWithPressure_ReadsMemoryFile()
    {
        string root = Directory.CreateTempSubdirectory("memwatch-psi-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "pressure"));
            File.Copy(Path.Combine(CgroupFixtures.Root, "proc-pressure-memory"), Path.Combine(root, "pressure", "memory"));

            Assert.True(PressureStall.TryReadSystem(new ProcFileSystem(root), new FileBuffer(), out PressureStall? psi));
            Assert.NotNull(psi.Full);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void TryReadSystem_NoPressureDirectory_ReturnsFalse()
    {
        var fs = new ProcFileSystem(Path.Combine(CgroupFixtures.Dir("hybrid"), "proc"));

        Assert.False(PressureStall.TryReadSystem(fs, new FileBuffer(), out PressureStall? psi));
        Assert.Null(psi);
    }
}

using System.Globalization;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Runtimes.Jvm;

namespace MemWatch.Probes.Tests.Runtimes;

/// <summary>
/// The hsperfdata parser on a real file (OpenJDK 17, -Xmx256m -XX:+UseParallelGC, idle), checked against jcmd's
/// PerfCounter.print of the same JVM taken right after the copy; and refusals of malformed files.
/// </summary>
public sealed class HsPerfDataTests
{
    private static readonly string s_dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "hsperfdata");

    [Fact]
    public void TryParse_RealFile_GivesEveryLongCounterJcmdPrints()
    {
        Assert.True(HsPerfData.TryParse(File.ReadAllBytes(Path.Combine(s_dir, "parallel-256m.hsperfdata")), out HsPerfData? perf, out string? problem), problem);
        int compared = 0;
        foreach ((string name, string value) in Expected())
        {
            if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long expected) && name.StartsWith("sun.gc.", StringComparison.Ordinal))
            {
                Assert.Equal(expected, perf!.Long(name));
                compared++;
            }
        }

        Assert.True(compared > 50, $"only {compared} counters compared");
        Assert.Equal("ParScav:MSC", perf!.String("sun.gc.policy.name"));
    }

    [Fact]
    public void FiguresOf_ParallelCollector_SumsGenerationsAndTheirSpaces()
    {
        Assert.True(HsPerfData.TryParse(File.ReadAllBytes(Path.Combine(s_dir, "parallel-256m.hsperfdata")), out HsPerfData? perf, out _));
        Dictionary<string, string> e = Expected().ToDictionary(x => x.Name, x => x.Value);
        long L(string n) => long.Parse(e[n], CultureInfo.InvariantCulture);

        RuntimeHeapFigures f = JvmHeapReader.FiguresOf(perf!)!;

        Assert.Equal((ulong)(L("sun.gc.generation.0.capacity") + L("sun.gc.generation.1.capacity")), f.CommittedBytes);
        Assert.Equal((ulong)(L("sun.gc.generation.0.maxCapacity") + L("sun.gc.generation.1.maxCapacity")), f.MaxBytes);
        Assert.Equal((ulong)(L("sun.gc.generation.0.space.0.used") + L("sun.gc.generation.0.space.1.used") + L("sun.gc.generation.0.space.2.used")
            + L("sun.gc.generation.1.space.0.used")), f.UsedBytes);
        Assert.Contains(f.Spaces, s => s.Name == "metaspace");
    }

    [Fact]
    public void TryParse_MalformedFiles_AreRefusedWithAReason()
    {
        byte[] real = File.ReadAllBytes(Path.Combine(s_dir, "parallel-256m.hsperfdata"));

        Assert.False(HsPerfData.TryParse(new byte[16], out _, out string? tooShort));
        Assert.Contains("magic", tooShort);

        // An entry count far beyond the file, and an entry whose length runs past the end.
        byte[] manyEntries = (byte[])real.Clone();
        BitConverter.TryWriteBytes(manyEntries.AsSpan(28), 90_000);
        Assert.False(HsPerfData.TryParse(manyEntries, out _, out string? pastEnd));
        Assert.NotNull(pastEnd);

        byte[] longEntry = (byte[])real.Clone();
        int first = BitConverter.ToInt32(real, 24);
        BitConverter.TryWriteBytes(longEntry.AsSpan(first), int.MaxValue);
        Assert.False(HsPerfData.TryParse(longEntry, out _, out string? malformed));
        Assert.Contains("malformed", malformed);
    }

    private static IEnumerable<(string Name, string Value)> Expected()
    {
        foreach (string line in File.ReadLines(Path.Combine(s_dir, "parallel-256m.expected.txt")))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                yield return (line[..eq], line[(eq + 1)..]);
            }
        }
    }
}

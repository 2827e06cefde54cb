using MemWatch.Probes.Attribution;

namespace MemWatch.Probes.Tests.Attribution;

public sealed class PerfMapTests
{
    [Fact]
    public void Parse_RuntimeLines_FindsMethodsByAddress()
    {
        PerfMap map = PerfMap.Parse(
            "0x7F2A10001000 3c void [native_leak] SessionCache::Remember(int64)[Optimized]\n"
            + "7F2A10002000 10 stub<1> AllocateTemporaryEntryPoints<PreJIT>\n");
        Assert.Equal(2, map.Count);
        Assert.True(map.TryFind(0x7F2A1000103B, out string name, out ulong start));
        Assert.Equal("void [native_leak] SessionCache::Remember(int64)[Optimized]", name);
        Assert.Equal(0x7F2A10001000UL, start);
        Assert.False(map.TryFind(0x7F2A1000103C, out _, out _));
    }

    [Fact]
    public void Parse_HostileLines_AreSkippedOrCleaned()
    {
        PerfMap map = PerfMap.Parse("zz 10 bad\n10 0 empty\nFFFFFFFFFFFFFFF0 100 wraps\n20 10 a\u0007b\u001b[31m\n" + "30 10 " + new string('x', 5000) + "\n");
        Assert.Equal(2, map.Count);
        Assert.True(map.TryFind(0x25, out string name, out _));
        Assert.Equal("ab[31m", name);
        Assert.True(map.TryFind(0x35, out name, out _));
        Assert.Equal(512, name.Length);
    }
}

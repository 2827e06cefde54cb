using MemWatch.Probes.Allocators.Models;

namespace MemWatch.Probes.Tests.Allocators;

public sealed class TcmallocParametersTests
{
    [Fact]
    public void Defaults_MatchGperftools210()
    {
        TcmallocParameters p = TcmallocParameters.Defaults();

        // 33 554 432 read at run time with GetNumericProperty (gperftools 2.10), not the 16 MB of the header comment.
        Assert.Equal(33_554_432UL, p.MaxTotalThreadCacheBytes);
        Assert.Equal(1.0, p.ReleaseRate);
        Assert.False(p.AggressiveDecommit);
        Assert.Equal(0, p.HeapLimitMegabytes);
        Assert.Equal(
            ["thread-cache", "dirty-pages", "fragmentation"],
            p.RetentionMechanisms.Select(m => m.Name));
    }

    [Theory]
    [InlineData("8388608", 8388608UL, false)]
    [InlineData("64MB", 512UL * 1024, true)]
    [InlineData("abc", 512UL * 1024, true)]
    [InlineData("-1", 1UL << 30, true)]
    [InlineData("99999999999999999999", 1UL << 30, true)]
    public void FromEnvironment_ThreadCacheBytes_ReadLikeStrtollAndClipped(string text, ulong expected, bool issue)
    {
        TcmallocParameters p = TcmallocParameters.FromEnvironment(n => n == "TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES" ? text : null);

        Assert.Equal(expected, p.MaxTotalThreadCacheBytes);
        Assert.Equal(issue, p.Issues.Count > 0);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    [InlineData("", true)]
    [InlineData("false", false)]
    [InlineData("on", false)]
    public void FromEnvironment_AggressiveDecommit_FirstCharacterDecides(string text, bool expected)
    {
        TcmallocParameters p = TcmallocParameters.FromEnvironment(n => n == "TCMALLOC_AGGRESSIVE_DECOMMIT" ? text : null);

        Assert.Equal(expected, p.AggressiveDecommit);
    }

    [Fact]
    public void FromEnvironment_ReleaseRateZero_SaysNothingIsReturnedAutomatically()
    {
        TcmallocParameters p = TcmallocParameters.FromEnvironment(n => n == "TCMALLOC_RELEASE_RATE" ? "0" : null);

        Assert.Equal(0, p.ReleaseRate);
        Assert.Contains("nothing is returned", p.RetentionMechanisms.Single(m => m.Kind == RetentionMechanismKind.DirtyPages).Summary);
    }

    [Fact]
    public void FromEnvironment_ReleaseRateWithTrailingText_ReadsPrefix()
    {
        TcmallocParameters p = TcmallocParameters.FromEnvironment(n => n == "TCMALLOC_RELEASE_RATE" ? "2.5x" : null);

        Assert.Equal(2.5, p.ReleaseRate);
        Assert.Single(p.Issues);
    }

    [Fact]
    public void FromEnvironment_RandomValues_NeverThrow()
    {
        var random = new Random(210);
        const string alphabet = "0123456789+-.eExtTyYfF ";
        for (int round = 0; round < 3000; round++)
        {
            char[] text = new char[random.Next(0, 25)];
            for (int i = 0; i < text.Length; i++)
            {
                text[i] = alphabet[random.Next(alphabet.Length)];
            }

            string value = new(text);
            TcmallocParameters p = TcmallocParameters.FromEnvironment(_ => value);
            Assert.InRange(p.MaxTotalThreadCacheBytes, 512UL * 1024, 1UL << 30);
        }
    }
}

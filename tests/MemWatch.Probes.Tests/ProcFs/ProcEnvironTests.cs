using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class ProcEnvironTests
{
    private static readonly string[] s_checkedNames =
    [
        "PATH", "LANG", "LD_PRELOAD", "GLIBC_TUNABLES", "MALLOC_ARENA_MAX", "MALLOC_CONF", "TCMALLOC_RELEASE_RATE",
        "TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES", "DOTNET_gcServer", "DOTNET_GCgen0size",
    ];

    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_MatchesGrepExtraction(string fixture)
    {
        var expected = ProcFixtures.ExpectedFor(fixture);
        Assert.True(ProcEnviron.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcEnviron? env));
        if (expected.Has("environ.missing"))
        {
            Assert.Equal(0, env.Count);
            return;
        }

        Assert.Equal(expected.I32("environ.count"), env.Count);
        foreach (string name in s_checkedNames)
        {
            string want = expected.Text($"environ.{name}");
            Assert.Equal(want != "none", env.TryGetValue(name, out string? value));
            Assert.Equal(want == "none" ? null : want, value);
        }
    }

    [Theory]
    [InlineData("jemalloc", "LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")]
    [InlineData("jemalloc", "MALLOC_CONF", "narenas:2,background_thread:true")]
    [InlineData("tcmalloc", "LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4")]
    [InlineData("glibc", "MALLOC_ARENA_MAX", "4")]
    [InlineData("dotnet", "DOTNET_gcServer", "0")]
    public void TryGetValue_VariableSetAtCapture_ReturnsIt(string fixture, string name, string value)
    {
        Assert.True(ProcEnviron.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcEnviron? env));
        Assert.True(env.TryGetValue(name, out string? actual));
        Assert.Equal(value, actual);
    }

    [Fact]
    public void GetVariablesWithPrefix_TcmallocProcess_ReturnsBothTunables()
    {
        Assert.True(ProcEnviron.TryRead(ProcFixtures.Fs, ProcFixtures.Pid("tcmalloc"), new FileBuffer(), out ProcEnviron? env));
        var found = env.GetVariablesWithPrefix("TCMALLOC_");
        Assert.Equal(
            [new("TCMALLOC_RELEASE_RATE", "5"), new("TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES", "33554432")],
            found.OrderByDescending(kv => kv.Key == "TCMALLOC_RELEASE_RATE"));
    }

    [Theory]
    [InlineData("kthreadd")]
    [InlineData("zombie")]
    public void TryRead_TaskWithoutMm_ReturnsEmpty(string fixture)
    {
        // The capture got ESRCH for these, so no environ file exists, but the process directory does.
        Assert.False(File.Exists(ProcFixtures.PathOf(fixture, "environ")));
        Assert.True(ProcEnviron.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcEnviron? env));
        Assert.Equal(0, env.Count);
        Assert.False(env.Contains("PATH"));
    }

    [Fact]
    public void TryGetValue_NameIsPrefixOfEarlierEntry_MatchesWholeName()
    {
        ProcEnviron env = ProcEnviron.Parse("PATHX=1\0PATH=2\0PATH=3\0NOVALUE\0EMPTY=\0"u8, "environ");
        Assert.True(env.TryGetValue("PATH", out string? v));
        Assert.Equal("2", v);
        Assert.True(env.TryGetValue("EMPTY", out v));
        Assert.Equal(string.Empty, v);
        Assert.False(env.Contains("NOVALUE"));
        Assert.False(env.Contains("PAT"));
        Assert.Equal(5, env.Count);
        Assert.Single(env.GetVariablesWithPrefix("PATH"), kv => kv.Key == "PATH" && kv.Value == "2");
    }

    [Fact]
    public void TryGetValue_Utf8Bytes_NoStringNeeded()
    {
        ProcEnviron env = ProcEnviron.Parse("A=1\0MALLOC_CONF=dirty_decay_ms:0"u8, "environ");
        Assert.True(env.TryGetValue("MALLOC_CONF"u8, out ReadOnlySpan<byte> value));
        Assert.True(value.SequenceEqual("dirty_decay_ms:0"u8));
        Assert.Equal(2, env.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("A=B")]
    public void TryGetValue_InvalidName_Throws(string name)
    {
        ProcEnviron env = ProcEnviron.Parse("A=B=C\0"u8, "environ");
        Assert.ThrowsAny<ArgumentException>(() => env.TryGetValue(name, out string? _));
    }
}

using MemWatch.Probes.Allocators;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.IntegrationTests.Allocators;

/// <summary>Which introspector a real process gets, from its mapped symbols alone (no ptrace).</summary>
public sealed class AllocatorDetectionTests
{
    [Theory]
    [InlineData(null, "glibc")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "jemalloc")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4", "tcmalloc")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4", "tcmalloc")]
    public void ForTarget_PreloadedAllocator_PicksIt(string? preload, string expected)
    {
        Dictionary<string, string>? env = preload is null ? null : new() { ["LD_PRELOAD"] = preload };
        using Workload w = Workload.Start("live_bytes.c", environment: env);
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, w.Pid, new FileBuffer(), out TargetSymbols? symbols));
        IAllocatorIntrospector i = AllocatorIntrospectors.ForTarget(symbols);
        Assert.Equal(expected, i.Allocator);
        Assert.True(i.IsSupported);
        Assert.NotEmpty(i.UnsafeCodeRanges);
    }

    [Fact]
    public void ForTarget_StaticBinaryWithoutAllocatorSymbols_NotSupportedWithReason()
    {
        using Workload w = Workload.Start("live_bytes.c", extraFlags: "-static -s");
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, w.Pid, new FileBuffer(), out TargetSymbols? symbols));
        IAllocatorIntrospector i = AllocatorIntrospectors.ForTarget(symbols);
        Assert.False(i.IsSupported);
        Assert.False(string.IsNullOrEmpty(i.NotSupportedReason));
        Assert.Equal(ReleaseOutcome.NotSupported, i.Release(null!, TimeSpan.FromSeconds(1)).Outcome);
    }
}

using MemWatch.Probes.Attribution;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Attribution;

/// <summary>
/// The attribution corpus: on each workload with a known leaking site, ten consecutive captures of 3 s (each a fresh
/// set of perf events over the running process); the leaking site must be the top site in at least 9 of them, and no
/// churning path may be. A process that only churns must yield "no growth to attribute" every time.
/// </summary>
[Collection(AttributionCorpus.Collection)]
public sealed class AttributionAccuracyTests(ITestOutputHelper output)
{
    private const int Runs = 10;
    private static readonly TimeSpan s_capture = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData("paths")]
    [InlineData("churn")]
    [InlineData("thread")]
    [InlineData("library")]
    [InlineData("cxx-inlined")]
    public void LeakingSiteIsTopInNineOfTenCaptures(string scenario)
    {
        using Workload w = AttributionCorpus.Start(scenario);
        AssertNineOfTen(scenario, w.Pid);
    }

    [Fact]
    public void DotNetNativeLeakThroughAllocHGlobalIsTopInNineOfTenCaptures()
    {
        // JIT frames are named from the runtime's perf map.
        using Workload w = AttributionCorpus.Start("dotnet-native");
        AssertNineOfTen("dotnet-native", w.Pid);
    }

    [Fact]
    public void DotNetWithoutPerfMapShowsManagedCodeNeverGarbage()
    {
        using Workload w = DotNetWorkload.Start("native_leak");
        AttributionResult r = AttributionCapture.Run(w.Pid, s_capture)!;
        output.WriteLine(AttributionCorpus.Describe(r));
        Assert.True(r.HasGrowth, AttributionCorpus.Describe(r));
        Assert.Contains(r.Notes, n => n.Contains("DOTNET_PerfMapEnabled", StringComparison.Ordinal));

        // The frames under the leak are JIT code: named as managed code of the process, in no module but [jit].
        Assert.Contains(r.Sites[0].Frames, f => f.Function == "[managed code]" && f.Module == "[jit]");
        Assert.DoesNotContain(r.Sites.SelectMany(s => s.Frames), f => f.Module == "[unknown]");
    }

    [Fact]
    public void ChurnOnlyYieldsNoGrowthToAttribute()
    {
        using Workload w = AttributionCorpus.Start("churn-only");
        for (int run = 0; run < 3; run++)
        {
            AttributionResult r = AttributionCapture.Run(w.Pid, s_capture)!;
            output.WriteLine($"run {run}: {AttributionCorpus.Describe(r)}");
            Assert.False(r.HasGrowth, AttributionCorpus.Describe(r));
            Assert.StartsWith("no growth to attribute", r.NoGrowthReason);
            Assert.Empty(r.Sites);

            // The churn was seen: it faulted and gave back.
            Assert.True(r.FaultedBytes > 8 * 1024 * 1024 && r.ReleasedBytes > r.FaultedBytes / 2, AttributionCorpus.Describe(r));
        }
    }

    private void AssertNineOfTen(string scenario, int pid)
    {
        string leaking = AttributionCorpus.LeakingFunction(scenario);
        int top = 0;
        var lines = new List<string>();
        for (int run = 0; run < Runs; run++)
        {
            AttributionResult r = AttributionCapture.Run(pid, s_capture)!;
            bool ok = AttributionCorpus.TopSiteHas(r, leaking)
                && !AttributionCorpus.ChurningFunctions(scenario).Any(f => AttributionCorpus.TopSiteHas(r, f));
            top += ok ? 1 : 0;
            lines.Add($"run {run} {(ok ? "top" : "MISS")}: {AttributionCorpus.Describe(r)}");
            Assert.DoesNotContain(r.Sites.SelectMany(s => s.Frames), f => string.IsNullOrWhiteSpace(f.Function) || string.IsNullOrWhiteSpace(f.Module));
        }

        lines.ForEach(output.WriteLine);
        Assert.True(top >= 9, $"{scenario}: the leaking site {leaking} was top in {top} of {Runs} captures\n" + string.Join("\n", lines));
    }
}

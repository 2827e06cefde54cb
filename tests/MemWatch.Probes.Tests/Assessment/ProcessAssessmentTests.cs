using System.Text;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Assessment;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Probes.Tests.Assessment;

/// <summary>The one entry point of inspect --watch and the daemon: which limit the forecast is made against, and when a verdict is given.</summary>
public sealed class ProcessAssessmentTests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void Assess_CgroupLimitBelowHostMemory_ForecastsToTheCgroupLimit()
    {
        MemoryAssessment a = new ProcessAssessment().Assess(new AssessmentInput
        {
            Window = Growing(2 * MiB),
            Cgroup = new ChargedMemory(1024 * MiB, 800 * MiB, 0, null),
            Host = Meminfo(16384 * MiB, 8192 * MiB),
        });

        Assert.Equal(LimitScope.Cgroup, a.Forecast.Scope);
        Assert.Equal(1024.0 * MiB, a.Forecast.LimitBytes);
        Assert.Equal(ForecastOutcome.Forecast, a.Forecast.Outcome);

        // (1024 - 800) MiB at 2 MiB/s.
        Assert.InRange(a.Forecast.SecondsToLimit!.Value, 100, 124);
        Assert.NotEqual(ForecastConfidence.None, a.Forecast.Confidence);
    }

    [Fact]
    public void Assess_CgroupV1UnlimitedSentinel_ForecastsToTheHost()
    {
        MemoryAssessment a = new ProcessAssessment().Assess(new AssessmentInput
        {
            Window = Growing(2 * MiB),
            Cgroup = new ChargedMemory(9223372036854771712, 800 * MiB, 0, null),

            // 4 GiB of 16 GiB used: below the 50% floor, and no pressure given.
            Host = Meminfo(16384 * MiB, 12288 * MiB),
        });

        Assert.Equal(LimitScope.Host, a.Forecast.Scope);
        Assert.Equal(16384.0 * MiB, a.Forecast.LimitBytes);
        Assert.Equal(ForecastOutcome.BelowUtilisationFloor, a.Forecast.Outcome);
        Assert.Null(a.Forecast.SecondsToLimit);
    }

    [Fact]
    public void Assess_HostPressure_LiftsTheUtilisationFloor()
    {
        // The same host as above, 25% used, but stalling: the pressure the daemon used to drop is now in its forecast.
        PressureStall psi = PressureStall.Parse("some avg10=40.00 avg60=30.00 avg300=10.00 total=1\nfull avg10=20.00 avg60=15.00 avg300=5.00 total=1\n"u8, "pressure");
        var input = new AssessmentInput { Window = Growing(2 * MiB), Host = Meminfo(16384 * MiB, 12288 * MiB) };

        MemoryAssessment calm = new ProcessAssessment().Assess(input);
        MemoryAssessment pressed = new ProcessAssessment().Assess(input with { HostPressure = psi });

        Assert.False(calm.Forecast.UnderPressure);
        Assert.True(pressed.Forecast.UnderPressure);
        Assert.NotEqual(ForecastOutcome.BelowUtilisationFloor, pressed.Forecast.Outcome);
    }

    [Fact]
    public void Assess_TwoSamples_GivesGrowthButNoVerdict()
    {
        var w = new SampleWindow(8, TimeSpan.FromHours(1));
        w.Add(new MemorySample(0, 1, 100 * MiB, 100 * MiB, 0, 0, 0, 0, 0));
        w.Add(new MemorySample(1000, 1, 101 * MiB, 101 * MiB, 0, 0, 0, 10, 0));

        MemoryAssessment a = new ProcessAssessment().Assess(new AssessmentInput { Window = w });

        Assert.Null(a.Verdict);
        Assert.Equal(2, a.Growth.Samples);
    }

    [Fact]
    public void Assess_GrowingAnonymousMemoryWithFaults_IsTheClassifiersVerdict()
    {
        SampleWindow w = Growing(2 * MiB);

        MemoryAssessment a = new ProcessAssessment().Assess(new AssessmentInput { Window = w });

        Assert.Equal(VerdictKind.Leak, a.Verdict!.Kind);
    }

    private static Meminfo Meminfo(ulong total, ulong available) => MemWatch.Probes.ProcFs.Meminfo.Parse(
        Encoding.ASCII.GetBytes($"MemTotal: {total / 1024} kB\nMemFree: {available / 1024} kB\nMemAvailable: {available / 1024} kB\n"), "meminfo");

    /// <summary>A clean 60 s window of anonymous memory growing at <paramref name="bytesPerSecond"/>, faulting as it grows.</summary>
    private static SampleWindow Growing(ulong bytesPerSecond)
    {
        var w = new SampleWindow(128, TimeSpan.FromHours(1));
        for (int i = 0; i <= 60; i++)
        {
            ulong rss = 500 * MiB + (ulong)i * bytesPerSecond;
            w.Add(new MemorySample(i * 1000L, 1, rss, rss, 0, 0, 0, (ulong)i * 512, 0));
        }

        return w;
    }
}

using System.Globalization;
using MemWatch.Probes.Allocators.Models;

namespace MemWatch.Probes.Tests.Allocators;

public sealed class GlibcMallocParametersTests
{
    private const string LdSo = "/lib64/ld-linux-x86-64.so.2";

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.Where(v => v.Name == name).Select(v => v.Value).LastOrDefault();

    [Fact]
    public void Defaults_TwoCpus_MatchGlibc236Values()
    {
        GlibcMallocParameters p = GlibcMallocParameters.Defaults(onlineCpus: 2);

        // Values seen in gdb in a fresh process (mp_ dump) and the 120-byte fastbin limit of seed 001.
        Assert.Equal(131072UL, p.MmapThresholdBytes);
        Assert.Equal(131072UL, p.TrimThresholdBytes);
        Assert.Equal(131072UL, p.TopPadBytes);
        Assert.Equal(65536, p.MmapMax);
        Assert.Equal(8UL, p.ArenaTest);
        Assert.Null(p.ArenaMax);
        Assert.Equal(16UL, p.ArenaLimit);
        Assert.Equal(7UL, p.TcacheCount);
        Assert.Equal(1032UL, p.TcacheMaxBytes);
        Assert.Equal(120UL, p.FastbinLargestRequestBytes);
        Assert.True(p.DynamicThresholdEnabled);
        Assert.Equal(32UL << 20, p.ReachableMmapThresholdBytes);
        Assert.Equal(64UL << 20, p.ReachableTrimThresholdBytes);
        Assert.Empty(p.Issues);
        Assert.All(p.Settings, s => Assert.Equal(SettingSource.Default, s.Source));
    }

    [Fact]
    public void FromEnvironment_TunableAndLegacyAlias_TunableWins()
    {
        GlibcMallocParameters p = GlibcMallocParameters.FromEnvironment(
            Env(("MALLOC_ARENA_MAX", "4"), ("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")), onlineCpus: 64);

        Assert.Equal(2UL, p.ArenaMax);
        Assert.Equal(2UL, p.ArenaLimit);
        Assert.Contains(p.Settings, s => s is { Name: "glibc.malloc.arena_max", Value: "2", Source: SettingSource.GlibcTunables });
    }

    [Fact]
    public void FromEnvironment_InvalidTunableValidAlias_AliasApplies()
    {
        GlibcMallocParameters p = GlibcMallocParameters.FromEnvironment(
            Env(("MALLOC_ARENA_MAX", "4"), ("GLIBC_TUNABLES", "glibc.malloc.arena_max=0")), onlineCpus: 2);

        Assert.Equal(4UL, p.ArenaMax);
        EnvironmentIssue issue = Assert.Single(p.Issues);
        Assert.Contains("outside [1,", issue.Reason);
    }

    [Theory]
    [InlineData("MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold")]
    [InlineData("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold")]
    [InlineData("MALLOC_TOP_PAD_", "glibc.malloc.top_pad")]
    [InlineData("MALLOC_MMAP_MAX_", "glibc.malloc.mmap_max")]
    public void FromEnvironment_AnyThresholdSet_DisablesDynamicRule(string legacy, string tunable)
    {
        GlibcMallocParameters viaLegacy = GlibcMallocParameters.FromEnvironment(Env((legacy, "65536")), 2);
        GlibcMallocParameters viaTunable = GlibcMallocParameters.FromEnvironment(Env(("GLIBC_TUNABLES", tunable + "=65536")), 2);

        Assert.Equal(tunable, viaLegacy.DynamicThresholdDisabledBy);
        Assert.Equal(tunable, viaTunable.DynamicThresholdDisabledBy);
        Assert.DoesNotContain(viaLegacy.RetentionMechanisms, m => m.Kind == RetentionMechanismKind.MmapThresholdRaised);
        Assert.Contains(GlibcMallocParameters.Defaults(2).RetentionMechanisms, m => m.Kind == RetentionMechanismKind.MmapThresholdRaised);
    }

    [Theory]
    [InlineData("glibc.malloc.arena_max", "is not a glibc 2.36 malloc tunable|no '='")]
    [InlineData("glibc.malloc.arena_max=abc", "not a number")]
    [InlineData("glibc.malloc.arena_max=-1x", "ignores 'x'")]
    [InlineData("glibc.malloc.mmap_max=-5", "outside [0, 2147483647]")]
    [InlineData("glibc.malloc.bogus=3", "not a glibc 2.36 malloc tunable")]
    [InlineData("glibc.malloc.tcache_count=70000", "do_set_tcache_count")]
    [InlineData("glibc.malloc.tcache_max=5000", "do_set_tcache_max")]
    [InlineData("glibc.malloc.mxfast=200", "do_set_mxfast")]
    [InlineData("foo=1", "not a glibc 2.36 malloc tunable")]
    [InlineData("glibc.malloc.arena_test:glibc.malloc.arena_max=3", "no '='")]
    public void FromEnvironment_MalformedTunables_ReportsReasonWithoutThrowing(string tunables, string reasonPattern)
    {
        GlibcMallocParameters p = GlibcMallocParameters.FromEnvironment(Env(("GLIBC_TUNABLES", tunables)), 2);

        Assert.Contains(p.Issues, i => reasonPattern.Split('|').Any(part => i.Reason.Contains(part, StringComparison.Ordinal)));
        Assert.All(p.Issues, i => Assert.Equal("GLIBC_TUNABLES", i.Variable));
    }

    [Fact]
    public void FromEnvironment_TcacheCountAboveMaximum_KeepsDefault()
    {
        GlibcMallocParameters p = GlibcMallocParameters.FromEnvironment(Env(("GLIBC_TUNABLES", "glibc.malloc.tcache_count=70000")), 2);

        Assert.Equal(7UL, p.TcacheCount);
    }

    [Fact]
    public void FromEnvironment_MxFastZero_DisablesFastbinsButTcacheStillHoards()
    {
        GlibcMallocParameters p = GlibcMallocParameters.FromEnvironment(Env(("GLIBC_TUNABLES", "glibc.malloc.mxfast=0")), 2);
        GlibcMallocParameters neither = GlibcMallocParameters.FromEnvironment(
            Env(("GLIBC_TUNABLES", "glibc.malloc.mxfast=0:glibc.malloc.tcache_count=0")), 2);

        Assert.Equal(0UL, p.FastbinLargestRequestBytes);
        Assert.Contains(p.RetentionMechanisms, m => m.Kind == RetentionMechanismKind.FastbinTcacheHoard);
        Assert.DoesNotContain(neither.RetentionMechanisms, m => m.Kind == RetentionMechanismKind.FastbinTcacheHoard);
    }

    [Fact]
    public void RetentionMechanisms_TwoCpus_ArenaRemedyCountsReservations()
    {
        IReadOnlyList<RetentionMechanism> mechanisms = GlibcMallocParameters.Defaults(2).RetentionMechanisms;

        RetentionMechanism arenas = Assert.Single(mechanisms, m => m.Kind == RetentionMechanismKind.ArenaProliferation);
        Assert.Equal("arena-proliferation", arenas.Name);
        RetentionRemedy cap = arenas.Remedies[0];
        Assert.StartsWith("MALLOC_ARENA_MAX=2", cap.Action);
        Assert.Contains("up to 14 x 64 MiB", cap.ExpectedEffect);
        Assert.False(cap.Live);
        Assert.All(mechanisms, m => Assert.NotEmpty(m.Observations));
        Assert.All(mechanisms, m => Assert.Contains(m.Remedies, r => r.Live));
    }

    public static TheoryData<string[]> LdSoCases() => new()
    {
        new[] { "GLIBC_TUNABLES=glibc.malloc.arena_max=12abc" },
        new[] { "GLIBC_TUNABLES=glibc.malloc.arena_max=abc:glibc.malloc.trim_threshold=abc" },
        new[] { "GLIBC_TUNABLES=glibc.malloc.arena_max=0x10:glibc.malloc.arena_test=010" },
        new[] { "GLIBC_TUNABLES=glibc.malloc.arena_max= 5:glibc.malloc.mmap_max=-5" },
        new[] { "GLIBC_TUNABLES=glibc.malloc.arena_max=-1:glibc.malloc.top_pad=99999999999999999999999" },
        new[] { "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.arena_max=5:glibc.malloc.arena_max=0" },
        new[] { "GLIBC_TUNABLES==5:glibc.malloc.arena_max=3::glibc.malloc.arena_test" },
        new[] { "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=3=4:glibc.malloc.mmap_max=2147483648" },
        new[] { "MALLOC_ARENA_MAX=4", "GLIBC_TUNABLES=glibc.malloc.arena_max=2" },
        new[] { "MALLOC_ARENA_MAX=4", "GLIBC_TUNABLES=glibc.malloc.arena_max=0" },
        new[] { "MALLOC_TOP_PAD_=1000", "MALLOC_MMAP_THRESHOLD_=0x100000", "MALLOC_TRIM_THRESHOLD_=7x", "MALLOC_MMAP_MAX_=12", "MALLOC_ARENA_TEST=2" },
        new[] { "MALLOC_ARENA_MAX=", "MALLOC_MMAP_MAX_=-1" },
    };

    [Theory]
    [MemberData(nameof(LdSoCases))]
    public void FromEnvironment_SameAsLdSoListTunables(string[] assignments)
    {
        var environment = assignments.Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => a[1]);

        GlibcMallocParameters model = GlibcMallocParameters.FromEnvironment(n => environment.GetValueOrDefault(n), 2);
        Dictionary<string, ulong> glibc = ReadLdSoTunables(environment);

        foreach (string name in new[] { "arena_max", "arena_test", "trim_threshold", "mmap_threshold", "top_pad", "mmap_max" })
        {
            AllocatorSetting setting = model.Settings.Single(s => s.Name == "glibc.malloc." + name);
            ulong expected = glibc["glibc.malloc." + name];
            if (setting.Source == SettingSource.Default)
            {
                Assert.True(expected == 0, $"{name}: ld.so has {expected}, the model kept the default");
            }
            else
            {
                Assert.Equal(expected, ulong.Parse(setting.Value, CultureInfo.InvariantCulture));
            }
        }
    }

    [Fact]
    public void FromEnvironment_RandomTunableStrings_NeverThrowAndAgreeWithLdSo()
    {
        var random = new Random(20260704);
        string[] names = ["glibc.malloc.arena_max", "glibc.malloc.arena_test", "glibc.malloc.trim_threshold", "glibc.malloc.mmap_max", "glibc.malloc.top_pad", "glibc.mal", ""];
        const string valueAlphabet = "0123456789xX-+ abz=:";
        for (int round = 0; round < 3000; round++)
        {
            var text = new System.Text.StringBuilder();
            int entries = random.Next(0, 4);
            for (int e = 0; e < entries; e++)
            {
                text.Append(names[random.Next(names.Length)]);
                if (random.Next(5) > 0)
                {
                    text.Append('=');
                }

                int length = random.Next(0, 8);
                for (int c = 0; c < length; c++)
                {
                    text.Append(valueAlphabet[random.Next(valueAlphabet.Length)]);
                }

                text.Append(':');
            }

            string tunables = text.ToString();
            GlibcMallocParameters model = GlibcMallocParameters.FromEnvironment(n => n == "GLIBC_TUNABLES" ? tunables : null, 2);
            Assert.NotNull(model.RetentionMechanisms);

            if (round % 100 == 0)
            {
                Dictionary<string, ulong> glibc = ReadLdSoTunables(new Dictionary<string, string> { ["GLIBC_TUNABLES"] = tunables });
                Assert.True(glibc["glibc.malloc.arena_max"] == (model.ArenaMax ?? 0), $"arena_max for '{tunables}'");
            }
        }
    }

    private static Dictionary<string, ulong> ReadLdSoTunables(IReadOnlyDictionary<string, string> environment)
    {
        var values = new Dictionary<string, ulong>();
        foreach (string line in ToolOutput.Run(LdSo, environment, "--list-tunables").Split('\n'))
        {
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0 || !line.StartsWith("glibc.malloc.", StringComparison.Ordinal))
            {
                continue;
            }

            string value = line[(colon + 2)..line.IndexOf(' ', colon + 2)];
            values[line[..colon]] = value.StartsWith("0x", StringComparison.Ordinal)
                ? ulong.Parse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : ulong.Parse(value, CultureInfo.InvariantCulture);
        }

        Assert.NotEmpty(values);
        return values;
    }
}

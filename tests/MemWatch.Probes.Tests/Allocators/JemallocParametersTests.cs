using System.Globalization;
using MemWatch.Probes.Allocators.Models;

namespace MemWatch.Probes.Tests.Allocators;

public sealed class JemallocParametersTests
{
    private const string Jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";

    [Fact]
    public void Defaults_TwoCpus_MatchDebian53Build()
    {
        JemallocParameters p = JemallocParameters.Defaults(onlineCpus: 2);

        Assert.Equal(10_000, p.DirtyDecayMilliseconds);
        Assert.Equal(0, p.MuzzyDecayMilliseconds);
        Assert.Equal(8UL, p.EffectiveNarenas);
        Assert.False(p.BackgroundThread);
        Assert.True(p.Retain);
        Assert.Equal(32768UL, p.TcacheMaxBytes);
        RetentionMechanism dirty = Assert.Single(p.RetentionMechanisms, m => m.Kind == RetentionMechanismKind.DirtyPages);
        Assert.Contains("idle process keeps them", dirty.Summary);
        Assert.Contains(dirty.Remedies, r => r.Action == "MALLOC_CONF=background_thread:true");
    }

    [Fact]
    public void FromEnvironment_DecayZeroAndNoTcache_DropsThoseMechanisms()
    {
        JemallocParameters p = JemallocParameters.FromEnvironment(
            n => n == "MALLOC_CONF" ? "dirty_decay_ms:0,muzzy_decay_ms:0,tcache:false" : null, 2);

        Assert.DoesNotContain(p.RetentionMechanisms, m => m.Kind is RetentionMechanismKind.DirtyPages or RetentionMechanismKind.ThreadCache);
        Assert.Empty(p.Issues);
    }

    [Fact]
    public void FromEnvironment_EtcMallocConfThenVariable_VariableWins()
    {
        JemallocParameters p = JemallocParameters.FromEnvironment(
            n => n == "MALLOC_CONF" ? "narenas:2" : null, 4, etcMallocConf: "narenas:6,background_thread:true");

        Assert.Equal(2UL, p.Narenas);
        Assert.True(p.BackgroundThread);
        Assert.Contains(p.Settings, s => s is { Name: "opt.background_thread", Source: SettingSource.EtcMallocConf });
    }

    [Theory]
    [InlineData("narenas:abc", "Invalid conf value")]
    [InlineData("bogus:1", "Invalid conf pair")]
    [InlineData("bad key:1,narenas:3", "malformed conf string")]
    [InlineData("narenas", "ends with a key")]
    [InlineData("narenas:3,", "ends with a comma")]
    [InlineData("background_thread:yes", "exactly true or false")]
    [InlineData("dirty_decay_ms:-2", "Invalid conf value")]
    public void FromEnvironment_MalformedConf_ReportsReasonWithoutThrowing(string conf, string reason)
    {
        JemallocParameters p = JemallocParameters.FromEnvironment(n => n == "MALLOC_CONF" ? conf : null, 2);

        Assert.Contains(p.Issues, i => i.Reason.Contains(reason, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("dirty_decay_ms:5000,narenas:abc,bogus:1,retain:false")]
    [InlineData("dirty_decay_ms:5000,narenas:3,bad key:1,retain:false")]
    [InlineData("muzzy_decay_ms:2500,narenas:0x10,background_thread:true,tcache:false")]
    [InlineData("dirty_decay_ms:-1,narenas:0,tcache_max:4096,background_thread:yes")]
    [InlineData("narenas:010,dirty_decay_ms:12x")]
    public void FromEnvironment_SameAsJemallocStatsPrint(string conf)
    {
        JemallocParameters model = JemallocParameters.FromEnvironment(n => n == "MALLOC_CONF" ? conf : null, Environment.ProcessorCount);
        string output = ToolOutput.Run("/bin/true", new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = Jemalloc,
            ["MALLOC_CONF"] = "stats_print:true," + conf,
        });

        Assert.Equal(Opt(output, "dirty_decay_ms"), model.DirtyDecayMilliseconds.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(Opt(output, "muzzy_decay_ms"), model.MuzzyDecayMilliseconds.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(Opt(output, "narenas"), model.EffectiveNarenas.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(Opt(output, "background_thread"), model.BackgroundThread ? "true" : "false");
        Assert.Equal(Opt(output, "retain"), model.Retain ? "true" : "false");
        Assert.Equal(Opt(output, "tcache"), model.Tcache ? "true" : "false");
        Assert.Equal(Opt(output, "tcache_max"), model.TcacheMaxBytes.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(output.Contains("<jemalloc>:", StringComparison.Ordinal), model.Issues.Count > 0);
    }

    [Fact]
    public void FromEnvironment_RandomConfStrings_NeverThrow()
    {
        var random = new Random(5303);
        const string alphabet = "narenas_dirty:decay,ms0123456789-xtruefalse ";
        for (int round = 0; round < 5000; round++)
        {
            char[] text = new char[random.Next(0, 40)];
            for (int i = 0; i < text.Length; i++)
            {
                text[i] = alphabet[random.Next(alphabet.Length)];
            }

            string conf = new(text);
            JemallocParameters p = JemallocParameters.FromEnvironment(n => n == "MALLOC_CONF" ? conf : null, 2);
            Assert.NotEmpty(p.RetentionMechanisms);
        }
    }

    private static string Opt(string statsOutput, string name)
    {
        string prefix = "opt." + name + ": ";
        string line = statsOutput.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(prefix, StringComparison.Ordinal));
        string value = line[prefix.Length..];
        int space = value.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? value : value[..space];
    }
}

using System.Globalization;

namespace MemWatch.Probes.Allocators.Models;

/// <summary>Resolves <see cref="GlibcMallocParameters"/> from an environment the way glibc 2.36's ld.so and ptmalloc_init do.</summary>
/// <remarks>
/// Emulated from elf/dl-tunables.c (parse_tunables, tunable_initialize, do_tunable_update_val), elf/dl-misc.c
/// (_dl_strtoul) and malloc/malloc.c (do_set_*), and checked against <c>ld.so --list-tunables</c> on the Debian 12 build.
/// </remarks>
internal static class GlibcMallocEnvironment
{
    public const string TunablesVariable = "GLIBC_TUNABLES";

    private const string MallocPrefix = "glibc.malloc.";

    // Names, aliases and bounds as `ld.so --list-tunables` prints them for glibc 2.36-9+deb12u14 (elf/dl-tunables.list).
    private static readonly TunableDefinition[] s_tunables =
    [
        new("glibc.malloc.arena_max", "MALLOC_ARENA_MAX", false, 1, ulong.MaxValue),
        new("glibc.malloc.arena_test", "MALLOC_ARENA_TEST", false, 1, ulong.MaxValue),
        new("glibc.malloc.trim_threshold", "MALLOC_TRIM_THRESHOLD_", false, 0, ulong.MaxValue),
        new("glibc.malloc.mmap_threshold", "MALLOC_MMAP_THRESHOLD_", false, 0, ulong.MaxValue),
        new("glibc.malloc.top_pad", "MALLOC_TOP_PAD_", false, 0, ulong.MaxValue),
        new("glibc.malloc.mmap_max", "MALLOC_MMAP_MAX_", true, 0, int.MaxValue),
        new("glibc.malloc.tcache_count", null, false, 0, ulong.MaxValue),
        new("glibc.malloc.tcache_max", null, false, 0, ulong.MaxValue),
        new("glibc.malloc.tcache_unsorted_limit", null, false, 0, ulong.MaxValue),
        new("glibc.malloc.mxfast", null, false, 0, ulong.MaxValue),
        new("glibc.malloc.hugetlb", null, false, 0, ulong.MaxValue),
        new("glibc.malloc.check", "MALLOC_CHECK_", true, 0, 3),
        new("glibc.malloc.perturb", "MALLOC_PERTURB_", true, 0, 255),
    ];

    public static GlibcMallocParameters Resolve(Func<string, string?> environment, int onlineCpus)
    {
        var set = new Dictionary<string, (ulong Value, SettingSource Source)>(StringComparer.Ordinal);
        var issues = new List<EnvironmentIssue>();

        // __tunables_init skips an alias whose tunable is already set, and GLIBC_TUNABLES re-initialises one an alias
        // set, so a valid GLIBC_TUNABLES entry wins whatever the order of the environment: apply aliases first.
        foreach (TunableDefinition tunable in s_tunables)
        {
            if (tunable.Alias is { } alias && environment(alias) is { } aliasValue)
            {
                Initialize(tunable, aliasValue, alias, $"{alias}={aliasValue}", SettingSource.LegacyEnvironment, set, issues);
            }
        }

        if (environment(TunablesVariable) is { } tunables)
        {
            ParseTunables(tunables, set, issues);
        }

        return Build(set, issues, onlineCpus);
    }

    // parse_tunables: name=value pairs separated by ':'; a name without '=' is skipped up to the next ':', and at the
    // end of the string ends parsing. The last valid value of a repeated name wins.
    private static void ParseTunables(string text, Dictionary<string, (ulong, SettingSource)> set, List<EnvironmentIssue> issues)
    {
        int p = 0;
        while (p < text.Length)
        {
            int end = text.IndexOfAny([':', '='], p);
            if (end < 0 || text[end] == ':')
            {
                string fragment = end < 0 ? text[p..] : text[p..end];
                if (fragment.Length > 0)
                {
                    issues.Add(new(TunablesVariable, fragment, "no '=': glibc skips this entry"));
                }

                if (end < 0)
                {
                    return;
                }

                p = end + 1;
                continue;
            }

            string name = text[p..end];
            int valueEnd = text.IndexOf(':', end + 1);
            string value = valueEnd < 0 ? text[(end + 1)..] : text[(end + 1)..valueEnd];
            p = valueEnd < 0 ? text.Length : valueEnd + 1;

            TunableDefinition? tunable = Array.Find(s_tunables, t => t.Name == name);
            if (tunable is not null)
            {
                Initialize(tunable, value, TunablesVariable, $"{name}={value}", SettingSource.GlibcTunables, set, issues);
            }
            else if (name.StartsWith(MallocPrefix, StringComparison.Ordinal) || !name.StartsWith("glibc.", StringComparison.Ordinal))
            {
                issues.Add(new(TunablesVariable, $"{name}={value}", $"'{name}' is not a glibc 2.36 malloc tunable: glibc ignores it"));
            }
        }
    }

    // tunable_initialize + do_tunable_update_val: _dl_strtoul, then the bounds (signed for INT_32, unsigned for SIZE_T).
    private static void Initialize(TunableDefinition tunable, string value, string variable, string text, SettingSource source,
        Dictionary<string, (ulong, SettingSource)> set, List<EnvironmentIssue> issues)
    {
        bool hasDigits = DlStrtoul.Parse(value, out ulong number, out int consumed);
        if (!hasDigits)
        {
            issues.Add(new(variable, text, $"'{value}' is not a number: glibc 2.36 reads it as 0"));
        }
        else if (consumed < value.Length)
        {
            issues.Add(new(variable, text, Invariant($"glibc 2.36 reads the leading number {number} and ignores '{value[consumed..]}'")));
        }

        bool inRange = tunable.Signed
            ? (long)number >= tunable.Min && (long)number <= (long)tunable.Max
            : number >= (ulong)tunable.Min && number <= tunable.Max;
        if (!inRange)
        {
            string shown = tunable.Signed ? ((long)number).ToString(CultureInfo.InvariantCulture) : number.ToString(CultureInfo.InvariantCulture);
            issues.Add(new(variable, text, Invariant($"{shown} is outside [{tunable.Min}, {tunable.Max}]: ignored")));
            return;
        }

        set[tunable.Name] = (number, source);
    }

    private static GlibcMallocParameters Build(Dictionary<string, (ulong Value, SettingSource Source)> set, List<EnvironmentIssue> issues, int onlineCpus)
    {
        var settings = new List<AllocatorSetting>();
        string? disabledBy = null;

        ulong Take(string shortName, ulong fallback, ulong? limit = null, string? limitReason = null)
        {
            string name = MallocPrefix + shortName;
            if (set.TryGetValue(name, out var found))
            {
                if (limit is { } max && found.Value > max)
                {
                    issues.Add(new(found.Source == SettingSource.GlibcTunables ? TunablesVariable : name, Invariant($"{name}={found.Value}"),
                        Invariant($"above {max}: {limitReason} ignores it")));
                }
                else
                {
                    settings.Add(new(name, found.Value.ToString(CultureInfo.InvariantCulture), found.Source));
                    if (shortName is "trim_threshold" or "top_pad" or "mmap_threshold" or "mmap_max")
                    {
                        disabledBy ??= name;
                    }

                    return found.Value;
                }
            }

            settings.Add(new(name, fallback.ToString(CultureInfo.InvariantCulture), SettingSource.Default));
            return fallback;
        }

        ulong mmapThreshold = Take("mmap_threshold", GlibcMallocParameters.DefaultMmapThresholdBytes);
        ulong trimThreshold = Take("trim_threshold", GlibcMallocParameters.DefaultTrimThresholdBytes);
        ulong topPad = Take("top_pad", GlibcMallocParameters.DefaultTopPadBytes);
        ulong mmapMax = Take("mmap_max", GlibcMallocParameters.DefaultMmapMax);
        ulong arenaTest = Take("arena_test", GlibcMallocParameters.DefaultArenaTest);
        ulong? arenaMax = set.TryGetValue(MallocPrefix + "arena_max", out var am) ? am.Value : null;
        settings.Add(new(MallocPrefix + "arena_max",
            arenaMax?.ToString(CultureInfo.InvariantCulture) ?? Invariant($"unset (limit 8 x {onlineCpus} online CPUs)"),
            arenaMax is null ? SettingSource.Default : am.Source));
        ulong tcacheCount = Take("tcache_count", GlibcMallocParameters.DefaultTcacheCount, GlibcMallocParameters.MaxTcacheCount, "do_set_tcache_count");
        ulong tcacheMax = Take("tcache_max", GlibcMallocParameters.MaxTcacheBytes, GlibcMallocParameters.MaxTcacheBytes, "do_set_tcache_max");
        ulong mxfast = Take("mxfast", GlibcMallocParameters.DefaultMxFastBytes, GlibcMallocParameters.MaxMxFastBytes, "do_set_mxfast");
        ulong hugetlb = Take("hugetlb", 0);

        return new GlibcMallocParameters
        {
            OnlineCpus = onlineCpus,
            MmapThresholdBytes = mmapThreshold,
            TrimThresholdBytes = trimThreshold,
            TopPadBytes = topPad,
            MmapMax = (long)mmapMax,
            ArenaTest = arenaTest,
            ArenaMax = arenaMax,
            TcacheCount = tcacheCount,
            TcacheMaxBytes = tcacheMax,
            MxFastBytes = mxfast,
            HugeTlb = hugetlb,
            DynamicThresholdDisabledBy = disabledBy,
            Settings = settings,
            Issues = issues,
        };
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record TunableDefinition(string Name, string? Alias, bool Signed, long Min, ulong Max);
}

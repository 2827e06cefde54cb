using System.Globalization;

namespace MemWatch.Probes.Allocators.Models;

/// <summary>
/// jemalloc 5.3's conf-string reader (src/jemalloc.c malloc_conf_next / malloc_conf_init_helper): <c>key:value</c> pairs
/// separated by commas, keys of [A-Za-z0-9_]. A malformed key ends the string ("Malformed conf string"); an unknown
/// key or bad value skips that pair ("Invalid conf pair" / "Invalid conf value"). Booleans are exactly true/false;
/// numbers are strtoimax/strtoumax with base 0 and must use the whole value.
/// </summary>
internal static class JemallocConf
{
    // Every option name jemalloc 5.3.0 accepts (malloc_conf_init_helper), so that only real typos are reported.
    private static readonly HashSet<string> s_knownNames = new(StringComparer.Ordinal)
    {
        "abort", "abort_conf", "cache_oblivious", "trust_madvise", "confirm_conf", "hpa", "hpa_slab_max_alloc",
        "hpa_hugification_threshold", "hpa_hugification_threshold_ratio", "hpa_dirty_mult", "hpa_hugify_delay_ms",
        "hpa_min_purge_interval_ms", "hpa_strict_min_purge_interval", "hpa_sec_nshards", "hpa_sec_max_alloc",
        "hpa_sec_max_bytes", "hpa_sec_bytes_after_flush", "hpa_sec_batch_fill_extra", "metadata_thp", "retain", "dss",
        "narenas", "percpu_arena", "oversize_threshold", "background_thread", "max_background_threads", "dirty_decay_ms",
        "muzzy_decay_ms", "stats_print", "stats_print_opts", "stats_interval", "stats_interval_opts", "junk", "zero",
        "utrace", "xmalloc", "tcache", "tcache_max", "lg_tcache_max", "tcache_nslots_small_min", "tcache_nslots_small_max",
        "tcache_nslots_large", "lg_tcache_nslots_mul", "tcache_gc_incr_bytes", "tcache_gc_delay_bytes",
        "lg_tcache_flush_small_div", "lg_tcache_flush_large_div", "thp", "lg_extent_max_active_fit", "bin_shards",
        "slab_sizes", "mutex_max_spin", "experimental_infallible_new", "prof", "prof_prefix", "prof_active",
        "prof_thread_active_init", "lg_prof_sample", "lg_prof_interval", "prof_gdump", "prof_final", "prof_leak",
        "prof_leak_error", "prof_accum", "prof_recent_alloc_max", "prof_stats", "prof_sys_thread_name", "prof_time_resolution",
        "san_guard_small", "san_guard_large", "lg_san_uaf_align", "zero_realloc", "debug_double_free_max_scan",
    };

    public static JemallocParameters Resolve(Func<string, string?> environment, int onlineCpus, string? etcMallocConf, string variable)
    {
        var state = new Dictionary<string, (string Value, SettingSource Source)>(StringComparer.Ordinal);
        var issues = new List<EnvironmentIssue>();
        if (etcMallocConf is not null)
        {
            Parse(etcMallocConf, "/etc/malloc.conf", SettingSource.EtcMallocConf, state, issues);
        }

        if (environment(variable) is { } conf)
        {
            Parse(conf, variable, SettingSource.MallocConf, state, issues);
        }

        var settings = new List<AllocatorSetting>();
        long dirty = SignedOption("dirty_decay_ms", JemallocParameters.DefaultDirtyDecayMilliseconds);
        long muzzy = SignedOption("muzzy_decay_ms", JemallocParameters.DefaultMuzzyDecayMilliseconds);
        ulong? narenas = UnsignedOption("narenas", null, min: 1);
        bool background = BoolOption("background_thread", false);
        bool retain = BoolOption("retain", true);
        bool tcache = BoolOption("tcache", true);
        ulong tcacheMax = UnsignedOption("tcache_max", JemallocParameters.DefaultTcacheMaxBytes, min: 0)!.Value;
        ulong oversize = UnsignedOption("oversize_threshold", JemallocParameters.DefaultOversizeThresholdBytes, min: 0)!.Value;

        return new JemallocParameters
        {
            OnlineCpus = onlineCpus,
            DirtyDecayMilliseconds = dirty,
            MuzzyDecayMilliseconds = muzzy,
            Narenas = narenas,
            BackgroundThread = background,
            Retain = retain,
            Tcache = tcache,
            TcacheMaxBytes = tcacheMax,
            OversizeThresholdBytes = oversize,
            Settings = settings,
            Issues = issues,
        };

        bool TryGet(string name, out string value, out SettingSource source)
        {
            bool found = state.TryGetValue(name, out var entry);
            (value, source) = entry;
            return found;
        }

        void Record(string name, string value, SettingSource source) => settings.Add(new("opt." + name, value, source));

        void Invalid(string name, string value, SettingSource source, string reason) =>
            issues.Add(new(source == SettingSource.EtcMallocConf ? "/etc/malloc.conf" : variable, $"{name}:{value}", reason));

        long SignedOption(string name, long fallback)
        {
            // dirty/muzzy_decay_ms: CONF_HANDLE_SSIZE_T with bounds -1 .. NSTIME_SEC_MAX * 1000, clipped at the top.
            if (TryGet(name, out string v, out SettingSource source))
            {
                if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) && n >= -1)
                {
                    Record(name, n.ToString(CultureInfo.InvariantCulture), source);
                    return n;
                }

                Invalid(name, v, source, "not an integer >= -1: jemalloc reports \"Invalid conf value\" and keeps the default");
            }

            Record(name, fallback.ToString(CultureInfo.InvariantCulture), SettingSource.Default);
            return fallback;
        }

        ulong? UnsignedOption(string name, ulong? fallback, ulong min)
        {
            if (TryGet(name, out string v, out SettingSource source))
            {
                if (TryParseUnsigned(v, out ulong n) && n >= min)
                {
                    Record(name, n.ToString(CultureInfo.InvariantCulture), source);
                    return n;
                }

                Invalid(name, v, source, JemallocParameters.Invariant($"not an unsigned integer >= {min}: jemalloc reports \"Invalid conf value\" and keeps the default"));
            }

            Record(name, fallback?.ToString(CultureInfo.InvariantCulture) ?? "unset", SettingSource.Default);
            return fallback;
        }

        bool BoolOption(string name, bool fallback)
        {
            if (TryGet(name, out string v, out SettingSource source))
            {
                if (v is "true" or "false")
                {
                    Record(name, v, source);
                    return v == "true";
                }

                Invalid(name, v, source, "not exactly true or false: jemalloc reports \"Invalid conf value\" and keeps the default");
            }

            Record(name, fallback ? "true" : "false", SettingSource.Default);
            return fallback;
        }
    }

    private static void Parse(string text, string origin, SettingSource source, Dictionary<string, (string, SettingSource)> state,
        List<EnvironmentIssue> issues)
    {
        int p = 0;
        while (p < text.Length)
        {
            int keyEnd = p;
            while (keyEnd < text.Length && IsKeyChar(text[keyEnd]))
            {
                keyEnd++;
            }

            if (keyEnd == text.Length)
            {
                issues.Add(new(origin, text[p..], "conf string ends with a key: jemalloc ignores it"));
                return;
            }

            if (text[keyEnd] != ':')
            {
                issues.Add(new(origin, text[p..], "malformed conf string: jemalloc ignores the rest of it"));
                return;
            }

            string key = text[p..keyEnd];
            int valueEnd = text.IndexOf(',', keyEnd + 1);
            string value = valueEnd < 0 ? text[(keyEnd + 1)..] : text[(keyEnd + 1)..valueEnd];
            p = valueEnd < 0 ? text.Length : valueEnd + 1;
            if (valueEnd >= 0 && p == text.Length)
            {
                issues.Add(new(origin, text, "conf string ends with a comma: jemalloc warns and keeps what came before"));
            }

            if (s_knownNames.Contains(key))
            {
                state[key] = (value, source);
            }
            else
            {
                issues.Add(new(origin, $"{key}:{value}", $"'{key}' is not a jemalloc 5.3 option: jemalloc reports \"Invalid conf pair\" and skips it"));
            }
        }
    }

    // strtoumax with base 0 over the whole value: decimal, 0x hex or 0 octal.
    private static bool TryParseUnsigned(string text, out ulong value)
    {
        value = 0;
        if (text.Length == 0 || text[0] == '-')
        {
            return false;
        }

        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return text.Length > 2 && ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        if (text.Length > 1 && text[0] == '0')
        {
            foreach (char c in text.AsSpan(1))
            {
                if (c is < '0' or > '7' || value > (ulong.MaxValue >> 3))
                {
                    return false;
                }

                value = (value << 3) | (uint)(c - '0');
            }

            return true;
        }

        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsKeyChar(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';
}

using System.Globalization;

namespace MemWatch.Probes.Allocators.Models;

/// <summary>Reads TCMALLOC_* variables with gperftools' C-library semantics (strtoll, strtod, first-character bools).</summary>
internal static class TcmallocEnvironment
{
    public const string MaxTotalThreadCacheBytes = "TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES";
    public const string ReleaseRate = "TCMALLOC_RELEASE_RATE";
    public const string AggressiveDecommit = "TCMALLOC_AGGRESSIVE_DECOMMIT";
    public const string HeapLimitMb = "TCMALLOC_HEAP_LIMIT_MB";

    public static TcmallocParameters Resolve(Func<string, string?> environment)
    {
        var settings = new List<AllocatorSetting>();
        var issues = new List<EnvironmentIssue>();

        ulong cache = TcmallocParameters.DefaultMaxTotalThreadCacheBytes;
        if (environment(MaxTotalThreadCacheBytes) is { } cacheText)
        {
            long raw = StrToLL(cacheText, MaxTotalThreadCacheBytes, issues);
            ulong asSize = unchecked((ulong)raw);
            cache = Math.Clamp(asSize, TcmallocParameters.TotalThreadCacheFloorBytes, TcmallocParameters.TotalThreadCacheCeilingBytes);
            if (cache != asSize)
            {
                issues.Add(new(MaxTotalThreadCacheBytes, cacheText,
                    TcmallocParameters.Invariant($"set_overall_thread_cache_size clips it to {cache} (range 512 KiB to 1 GiB)")));
            }
        }

        settings.Add(new("tcmalloc.max_total_thread_cache_bytes", cache.ToString(CultureInfo.InvariantCulture), Source(environment(MaxTotalThreadCacheBytes))));

        double rate = TcmallocParameters.DefaultReleaseRate;
        if (environment(ReleaseRate) is { } rateText)
        {
            rate = StrToD(rateText, ReleaseRate, issues);
        }

        settings.Add(new("TCMALLOC_RELEASE_RATE", rate.ToString("0.###", CultureInfo.InvariantCulture), Source(environment(ReleaseRate))));

        bool aggressive = false;
        if (environment(AggressiveDecommit) is { } aggressiveText)
        {
            aggressive = aggressiveText.Length == 0 || "tTyY1".Contains(aggressiveText[0], StringComparison.Ordinal);
            if (aggressiveText.Length > 0 && !aggressive && aggressiveText[0] is not ('f' or 'F' or 'n' or 'N' or '0'))
            {
                issues.Add(new(AggressiveDecommit, aggressiveText, "gperftools reads any value not starting with t, y or 1 as false"));
            }
        }

        settings.Add(new("tcmalloc.aggressive_memory_decommit", aggressive ? "1" : "0", Source(environment(AggressiveDecommit))));

        long heapLimit = environment(HeapLimitMb) is { } limitText ? StrToLL(limitText, HeapLimitMb, issues) : 0;
        settings.Add(new("tcmalloc.heap_limit_mb", heapLimit.ToString(CultureInfo.InvariantCulture), Source(environment(HeapLimitMb))));

        return new TcmallocParameters
        {
            MaxTotalThreadCacheBytes = cache,
            ReleaseRate = rate,
            AggressiveDecommit = aggressive,
            HeapLimitMegabytes = heapLimit,
            Settings = settings,
            Issues = issues,
        };
    }

    private static SettingSource Source(string? value) => value is null ? SettingSource.Default : SettingSource.Environment;

    // strtoll(text, NULL, 10): optional blanks and sign, then the longest run of digits; none gives 0; saturates.
    private static long StrToLL(string text, string variable, List<EnvironmentIssue> issues)
    {
        int i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        int start = i;
        if (i < text.Length && (text[i] == '+' || text[i] == '-'))
        {
            i++;
        }

        int digitsStart = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        if (i == digitsStart)
        {
            issues.Add(new(variable, text, "not a number: gperftools' strtoll reads it as 0"));
            return 0;
        }

        if (i < text.Length)
        {
            issues.Add(new(variable, text, TcmallocParameters.Invariant($"gperftools reads the leading number and ignores '{text[i..]}'")));
        }

        ReadOnlySpan<char> number = text.AsSpan(start, i - start);
        if (long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            return value;
        }

        return number[0] == '-' ? long.MinValue : long.MaxValue;
    }

    // strtod(text, NULL): the longest valid floating-point prefix; none gives 0.
    private static double StrToD(string text, string variable, List<EnvironmentIssue> issues)
    {
        string trimmed = text.TrimStart();
        for (int length = trimmed.Length; length > 0; length--)
        {
            if (double.TryParse(trimmed.AsSpan(0, length), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out double value))
            {
                if (length < trimmed.Length)
                {
                    issues.Add(new(variable, text, TcmallocParameters.Invariant($"gperftools reads {value} and ignores '{trimmed[length..]}'")));
                }

                return value;
            }
        }

        issues.Add(new(variable, text, "not a number: gperftools' strtod reads it as 0 (never release to the OS)"));
        return 0;
    }
}

using System.Globalization;

namespace MemWatch.Probes.Allocators.Models;

/// <summary>
/// The effective settings of gperftools tcmalloc 2.10 (Debian libtcmalloc-minimal4 / libgoogle-perftools-dev) from its
/// TCMALLOC_* variables. google/tcmalloc has no such variables; its caches are read by introspection.
/// </summary>
/// <remarks>
/// gperftools reads them with <c>EnvToInt64</c>/<c>EnvToDouble</c>/<c>EnvToBool</c> (src/base/commandlineflags.h):
/// strtoll/strtod prefixes, so "64MB" reads as 64 and "abc" as 0, and a bool is true when its first character is one
/// of t, T, y, Y, 1 or the value is empty.
/// </remarks>
public sealed record TcmallocParameters
{
    /// <summary>kDefaultOverallThreadCacheSize = 8 × kMaxThreadCacheSize = 32 MiB (src/common.h; the 16 MB in malloc_extension.h is stale).</summary>
    public const ulong DefaultMaxTotalThreadCacheBytes = 32UL << 20;

    /// <summary>kMinThreadCacheSize = 512 KiB: set_overall_thread_cache_size raises smaller values to it (src/thread_cache.cc).</summary>
    public const ulong TotalThreadCacheFloorBytes = 512UL << 10;

    /// <summary>set_overall_thread_cache_size caps the total at 1 GiB (src/thread_cache.cc).</summary>
    public const ulong TotalThreadCacheCeilingBytes = 1UL << 30;

    /// <summary>kMaxThreadCacheSize, 4 MiB per thread (src/common.h).</summary>
    public const ulong MaxPerThreadCacheBytes = 4UL << 20;

    /// <summary>TCMALLOC_RELEASE_RATE default, 1.0 (src/page_heap.cc).</summary>
    public const double DefaultReleaseRate = 1.0;

    public ulong MaxTotalThreadCacheBytes { get; init; } = DefaultMaxTotalThreadCacheBytes;

    /// <summary>How eagerly free page-heap spans are returned to the OS; 0 never (only ReleaseFreeMemory returns them).</summary>
    public double ReleaseRate { get; init; } = DefaultReleaseRate;

    /// <summary>TCMALLOC_AGGRESSIVE_DECOMMIT: return freed spans at once.</summary>
    public bool AggressiveDecommit { get; init; }

    /// <summary>TCMALLOC_HEAP_LIMIT_MB; 0 = none.</summary>
    public long HeapLimitMegabytes { get; init; }

    public IReadOnlyList<AllocatorSetting> Settings { get; init; } = [];

    public IReadOnlyList<EnvironmentIssue> Issues { get; init; } = [];

    public IReadOnlyList<RetentionMechanism> RetentionMechanisms => TcmallocRetentionMechanisms.For(this);

    public static TcmallocParameters Defaults() => TcmallocEnvironment.Resolve(static _ => null);

    /// <param name="environment">Looks a variable up; null when it is not set.</param>
    /// <remarks>Never throws: values are read as gperftools reads them; surprising readings are listed in <see cref="Issues"/>.</remarks>
    public static TcmallocParameters FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return TcmallocEnvironment.Resolve(environment);
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

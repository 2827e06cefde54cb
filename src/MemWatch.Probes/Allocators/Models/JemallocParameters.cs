using System.Globalization;

namespace MemWatch.Probes.Allocators.Models;

/// <summary>
/// The effective jemalloc 5.3 options (<c>opt.*</c>, jemalloc(3)) of a process, from Debian 5.3.0-1 defaults, the
/// <c>/etc/malloc.conf</c> link target and <c>MALLOC_CONF</c> (applied in that order; later wins).
/// Defaults as read with mallctl on this build (jemalloc 5.3).
/// </summary>
/// <remarks>
/// A bundled jemalloc built with a prefix reads <c>&lt;PREFIX&gt;MALLOC_CONF</c> and may have a compiled-in
/// <c>malloc_conf</c> symbol, which only introspection can read.
/// </remarks>
public sealed record JemallocParameters
{
    /// <summary>DIRTY_DECAY_MS_DEFAULT, 10 s (include/jemalloc/internal/arena_types.h).</summary>
    public const long DefaultDirtyDecayMilliseconds = 10_000;

    /// <summary>MUZZY_DECAY_MS_DEFAULT, 0 in 5.x (the 5.3.0 man page's "10 seconds" is wrong for this build).</summary>
    public const long DefaultMuzzyDecayMilliseconds = 0;

    /// <summary>opt.tcache_max default, 32 KiB.</summary>
    public const ulong DefaultTcacheMaxBytes = 32 * 1024;

    /// <summary>opt.oversize_threshold default, 8 MiB.</summary>
    public const ulong DefaultOversizeThresholdBytes = 8 * 1024 * 1024;

    public required int OnlineCpus { get; init; }

    /// <summary>opt.dirty_decay_ms: how long unused dirty pages stay before they turn muzzy or are purged; −1 = never decay.</summary>
    public long DirtyDecayMilliseconds { get; init; } = DefaultDirtyDecayMilliseconds;

    /// <summary>opt.muzzy_decay_ms: how long MADV_FREE'd pages stay before they are purged; −1 = never.</summary>
    public long MuzzyDecayMilliseconds { get; init; } = DefaultMuzzyDecayMilliseconds;

    /// <summary>opt.narenas: null when unset, meaning 4 × CPUs (1 on a single CPU), plus one arena for huge allocations.</summary>
    public ulong? Narenas { get; init; }

    /// <summary>opt.background_thread: when false, decay runs only when the process calls into jemalloc.</summary>
    public bool BackgroundThread { get; init; }

    /// <summary>opt.retain: keep virtual memory mapped instead of unmapping it (true on 64-bit Linux). Retained is not resident.</summary>
    public bool Retain { get; init; } = true;

    /// <summary>opt.tcache.</summary>
    public bool Tcache { get; init; } = true;

    public ulong TcacheMaxBytes { get; init; } = DefaultTcacheMaxBytes;

    public ulong OversizeThresholdBytes { get; init; } = DefaultOversizeThresholdBytes;

    /// <summary>Arenas in use for ordinary allocations: <see cref="Narenas"/>, or 4 × CPUs (opt_narenas in jemalloc.c malloc_init_narenas).</summary>
    public ulong EffectiveNarenas => Narenas ?? (OnlineCpus > 1 ? 4UL * (ulong)OnlineCpus : 1);

    public IReadOnlyList<AllocatorSetting> Settings { get; init; } = [];

    public IReadOnlyList<EnvironmentIssue> Issues { get; init; } = [];

    public IReadOnlyList<RetentionMechanism> RetentionMechanisms => JemallocRetentionMechanisms.For(this);

    public static JemallocParameters Defaults(int onlineCpus) => JemallocConf.Resolve(static _ => null, onlineCpus, null, "MALLOC_CONF");

    /// <param name="environment">Looks a variable up; null when it is not set.</param>
    /// <param name="onlineCpus">CPUs jemalloc sees at start (sysconf(_SC_NPROCESSORS_ONLN)).</param>
    /// <param name="etcMallocConf">The target of the <c>/etc/malloc.conf</c> link inside the process's root, if any.</param>
    /// <param name="variable">The conf variable: <c>MALLOC_CONF</c>, or e.g. <c>JE_MALLOC_CONF</c> for a prefixed build.</param>
    /// <remarks>Never throws on malformed input: each problem is listed in <see cref="Issues"/> with what jemalloc does.</remarks>
    public static JemallocParameters FromEnvironment(Func<string, string?> environment, int onlineCpus, string? etcMallocConf = null,
        string variable = "MALLOC_CONF")
    {
        ArgumentNullException.ThrowIfNull(environment);
        return JemallocConf.Resolve(environment, onlineCpus, etcMallocConf, variable);
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

namespace MemWatch.Probes.Allocators.Models;

/// <summary>
/// The effective ptmalloc parameters of a process using glibc 2.36 (Debian 12, x86_64), from defaults and the
/// environment it started with: <c>GLIBC_TUNABLES</c> (<c>glibc.malloc.*</c>) and the legacy MALLOC_* variables.
/// See mallopt(3), tunables(7), and glibc 2.36's malloc/malloc.c (<c>mp_</c>, <c>DEFAULT_MMAP_THRESHOLD_MAX</c>) and
/// malloc/arena.c (the tunables' callbacks).
/// </summary>
/// <remarks>
/// Startup configuration only: a program that calls mallopt(3) itself (as the second seed article does) has other
/// values, and the dynamic threshold moves at run time. Introspection (reading <c>mp_</c>) settles the live values.
/// </remarks>
public sealed record GlibcMallocParameters
{
    private const ulong KiB = 1024;
    private const ulong MiB = 1024 * 1024;

    /// <summary>DEFAULT_MMAP_THRESHOLD_MIN, 128 KiB (malloc.c; seen as <c>mp_.mmap_threshold</c> in gdb).</summary>
    public const ulong DefaultMmapThresholdBytes = 128 * KiB;

    /// <summary>DEFAULT_TRIM_THRESHOLD, 128 KiB (malloc.c).</summary>
    public const ulong DefaultTrimThresholdBytes = 128 * KiB;

    /// <summary>DEFAULT_TOP_PAD: 0 in malloc.c but 128 KiB from sysdeps/generic/malloc-machine.h (gdb <c>mp_.top_pad</c>).</summary>
    public const ulong DefaultTopPadBytes = 128 * KiB;

    /// <summary>DEFAULT_MMAP_MAX, 65536 (malloc.c).</summary>
    public const int DefaultMmapMax = 65536;

    /// <summary>arena_test = NARENAS_FROM_NCORES(1) = 8 on 64-bit (malloc.c; gdb <c>mp_.arena_test</c>).</summary>
    public const ulong DefaultArenaTest = 8;

    /// <summary>NARENAS_FROM_NCORES(n) = 8·n on 64-bit; n counts online CPUs in Debian's 2.36 (BZ 30945 backport).</summary>
    public const ulong ArenasPerOnlineCpu = 8;

    /// <summary>TCACHE_FILL_COUNT, 7 chunks per tcache bin (malloc.c).</summary>
    public const ulong DefaultTcacheCount = 7;

    /// <summary>MAX_TCACHE_COUNT, 65535: counts are uint16_t; do_set_tcache_count ignores larger values (malloc.c).</summary>
    public const ulong MaxTcacheCount = 65535;

    /// <summary>MAX_TCACHE_SIZE = tidx2usize(63) = 1032 request bytes; do_set_tcache_max ignores larger values (malloc.c).</summary>
    public const ulong MaxTcacheBytes = 1032;

    /// <summary>DEFAULT_MXFAST = 64·SIZE_SZ/4 = 128 (malloc.c): fastbins serve requests of up to 120 bytes.</summary>
    public const ulong DefaultMxFastBytes = 128;

    /// <summary>MAX_FAST_SIZE = 80·SIZE_SZ/4 = 160; do_set_mxfast ignores larger values (malloc.c).</summary>
    public const ulong MaxMxFastBytes = 160;

    /// <summary>DEFAULT_MMAP_THRESHOLD_MAX = 4·1024·1024·sizeof(long) = 32 MiB: the highest the dynamic rule raises mmap_threshold.</summary>
    public const ulong DynamicMmapThresholdMaxBytes = 32 * MiB;

    /// <summary>2 × <see cref="DynamicMmapThresholdMaxBytes"/>: the highest the dynamic rule raises trim_threshold.</summary>
    public const ulong DynamicTrimThresholdMaxBytes = 64 * MiB;

    /// <summary>HEAP_MAX_SIZE = 2·DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB reserved per non-main heap (arena.c).</summary>
    public const ulong HeapReservationBytes = 64 * MiB;

    /// <summary>Online CPUs (<c>/sys/devices/system/cpu/online</c>) of the host, which the arena limit is computed from.</summary>
    public required int OnlineCpus { get; init; }

    public ulong MmapThresholdBytes { get; init; } = DefaultMmapThresholdBytes;

    public ulong TrimThresholdBytes { get; init; } = DefaultTrimThresholdBytes;

    public ulong TopPadBytes { get; init; } = DefaultTopPadBytes;

    public long MmapMax { get; init; } = DefaultMmapMax;

    public ulong ArenaTest { get; init; } = DefaultArenaTest;

    /// <summary>glibc.malloc.arena_max / MALLOC_ARENA_MAX; null when not set.</summary>
    public ulong? ArenaMax { get; init; }

    public ulong TcacheCount { get; init; } = DefaultTcacheCount;

    public ulong TcacheMaxBytes { get; init; } = MaxTcacheBytes;

    public ulong MxFastBytes { get; init; } = DefaultMxFastBytes;

    /// <summary>glibc.malloc.hugetlb: 0 off, 1 THP madvise, ≥2 hugetlb heaps (then heaps reserve 4 huge pages, not 64 MiB).</summary>
    public ulong HugeTlb { get; init; }

    /// <summary>The setting that turned the dynamic mmap/trim threshold off, or null while it is on.</summary>
    /// <remarks>Any of trim_threshold, top_pad, mmap_threshold, mmap_max sets <c>mp_.no_dyn_threshold</c> (do_set_*, malloc.c).</remarks>
    public string? DynamicThresholdDisabledBy { get; init; }

    /// <summary>Effective settings and where each came from.</summary>
    public IReadOnlyList<AllocatorSetting> Settings { get; init; } = [];

    /// <summary>Entries of the environment glibc ignores or reads differently from how they are written.</summary>
    public IReadOnlyList<EnvironmentIssue> Issues { get; init; } = [];

    public bool DynamicThresholdEnabled => DynamicThresholdDisabledBy is null;

    /// <summary>Most arenas the process can create, the main arena included: arena_max, else 8 × online CPUs.</summary>
    public ulong ArenaLimit => ArenaMax ?? ArenasPerOnlineCpu * (ulong)Math.Max(1, OnlineCpus);

    /// <summary>The largest request fastbins serve: chunk limit (mxfast + 8) &amp; ~15, minus the 8-byte header; 0 when disabled.</summary>
    public ulong FastbinLargestRequestBytes
    {
        get
        {
            // set_max_fast: s == 0 gives MIN_CHUNK_SIZE/2 = 16, below the 32-byte minimum chunk: no fastbin use.
            ulong chunkLimit = MxFastBytes == 0 ? 16 : (MxFastBytes + 8) & ~15UL;
            return chunkLimit < 32 ? 0 : chunkLimit - 8;
        }
    }

    /// <summary>The highest mmap_threshold the process can reach: 32 MiB while the dynamic rule is on.</summary>
    public ulong ReachableMmapThresholdBytes => DynamicThresholdEnabled ? DynamicMmapThresholdMaxBytes : MmapThresholdBytes;

    /// <summary>The highest trim_threshold the process can reach: 64 MiB while the dynamic rule is on.</summary>
    public ulong ReachableTrimThresholdBytes => DynamicThresholdEnabled ? DynamicTrimThresholdMaxBytes : TrimThresholdBytes;

    /// <summary>The retention mechanisms that apply under these parameters, with observations and remedies.</summary>
    public IReadOnlyList<RetentionMechanism> RetentionMechanisms => GlibcRetentionMechanisms.For(this);

    /// <summary>glibc 2.36 defaults for a host with <paramref name="onlineCpus"/> online CPUs.</summary>
    public static GlibcMallocParameters Defaults(int onlineCpus) =>
        GlibcMallocEnvironment.Resolve(static _ => null, onlineCpus);

    /// <summary>The parameters a process started with, from its environment (e.g. <c>/proc/[pid]/environ</c>).</summary>
    /// <param name="environment">Looks a variable up; null when it is not set.</param>
    /// <param name="onlineCpus">Online CPUs of the host (not the cgroup's quota).</param>
    /// <remarks>Never throws on malformed values: each is resolved as glibc 2.36 would and listed in <see cref="Issues"/>.</remarks>
    public static GlibcMallocParameters FromEnvironment(Func<string, string?> environment, int onlineCpus)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return GlibcMallocEnvironment.Resolve(environment, onlineCpus);
    }
}

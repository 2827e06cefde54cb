namespace MemWatch.Probes.Allocators;

/// <summary>
/// The malloc implementation that serves a process. Stable lower-case names for JSON and metrics come from
/// <see cref="AllocatorKindNames.ToName"/>.
/// </summary>
public enum AllocatorKind
{
    Unknown,

    /// <summary>glibc ptmalloc (<c>libc.so.6</c>).</summary>
    Glibc,

    /// <summary>jemalloc (<c>libjemalloc.so*</c>, or linked in statically).</summary>
    Jemalloc,

    /// <summary>gperftools tcmalloc (<c>libtcmalloc*.so*</c>).</summary>
    GperftoolsTcmalloc,

    /// <summary>google/tcmalloc, the newer tcmalloc (usually linked statically).</summary>
    GoogleTcmalloc,

    /// <summary>musl's mallocng (<c>ld-musl-*.so.1</c>).</summary>
    Musl,
}

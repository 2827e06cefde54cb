namespace MemWatch.Probes.Allocators;

/// <summary>Stable names of <see cref="AllocatorKind"/> values for JSON and metric labels.</summary>
public static class AllocatorKindNames
{
    public static string ToName(this AllocatorKind kind) => kind switch
    {
        AllocatorKind.Glibc => "glibc",
        AllocatorKind.Jemalloc => "jemalloc",
        AllocatorKind.GperftoolsTcmalloc => "gperftools-tcmalloc",
        AllocatorKind.GoogleTcmalloc => "google-tcmalloc",
        AllocatorKind.Musl => "musl",
        _ => "unknown",
    };
}

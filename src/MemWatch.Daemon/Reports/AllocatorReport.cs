namespace MemWatch.Daemon.Reports;

/// <summary>Which allocator serves the process, as recognised from what it maps.</summary>
internal sealed record AllocatorReport
{
    /// <summary>glibc, jemalloc, gperftools-tcmalloc, google-tcmalloc, musl or unknown.</summary>
    public required string Name { get; init; }

    /// <summary>True when a .NET runtime (libcoreclr) is loaded, whose GC heap sits beside the native allocator.</summary>
    public bool DotNetRuntime { get; init; }

    /// <summary>The library that provides malloc, when it is a shared object.</summary>
    public string? Library { get; init; }
}

namespace MemWatch.Probes.Allocators;

/// <summary>What the allocator said about a release request.</summary>
public enum ReleaseOutcome
{
    /// <summary>The allocator reports that it gave memory back (glibc malloc_trim returned 1).</summary>
    Released,

    /// <summary>The allocator reports that there was nothing it could give back (malloc_trim returned 0).</summary>
    NothingReleased,

    /// <summary>The request succeeded but the allocator does not say how much it released: judge by RSS.</summary>
    Requested,

    /// <summary>The allocator rejected the request (e.g. a mallctl error code).</summary>
    Failed,

    /// <summary>No supported allocator: nothing was called.</summary>
    NotSupported,
}

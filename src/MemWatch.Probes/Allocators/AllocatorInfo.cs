namespace MemWatch.Probes.Allocators;

/// <summary>Which allocator serves a process, as told by its mapped files (<c>/proc/PID/maps</c>) and, optionally, ELF symbols.</summary>
/// <param name="Kind">The allocator.</param>
/// <param name="LibraryPath">The mapped file that provides it (as the target sees it); the executable when linked in statically; null when unknown.</param>
/// <param name="DotNetRuntime">True when <c>libcoreclr.so</c> is mapped: a .NET runtime, whose native allocations use <paramref name="Kind"/>.</param>
/// <param name="IsStaticallyLinked">True when the allocator was found among the executable's own symbols.</param>
public sealed record AllocatorInfo(AllocatorKind Kind, string? LibraryPath, bool DotNetRuntime, bool IsStaticallyLinked)
{
    /// <summary>Stable name of <see cref="Kind"/> (<c>glibc</c>, <c>jemalloc</c>, ...).</summary>
    public string Name => Kind.ToName();
}

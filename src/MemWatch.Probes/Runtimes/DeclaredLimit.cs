namespace MemWatch.Probes.Runtimes;

/// <summary>
/// A memory limit the process declares for itself at start: the JVM's -Xmx, V8's --max-old-space-size, GOMEMLIMIT,
/// memcached's -m, Redis's maxmemory. What it bounds differs (a heap, a cache); <see cref="Bounds"/> says which.
/// </summary>
/// <param name="Bytes">The limit.</param>
/// <param name="Source">Where it was read, as the user wrote it (e.g. <c>-Xmx256m</c>, <c>GOMEMLIMIT=512MiB</c>).</param>
/// <param name="Bounds">What it bounds: <c>heap</c> (a GC heap) or <c>cache</c> (a server's item memory).</param>
public sealed record DeclaredLimit(ulong Bytes, string Source, string Bounds)
{
    public const string Heap = "heap";

    public const string Cache = "cache";
}

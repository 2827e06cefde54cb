using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Cgroups;

/// <summary>Reads the memory cgroup of a process: <see cref="CgroupResolver"/> then <see cref="CgroupMemory.TryRead"/>.</summary>
/// <remarks>Not thread safe (the resolver caches mounts lazily); one reader per sampling thread.</remarks>
public sealed class CgroupMemoryReader
{
    public CgroupMemoryReader(CgroupResolver resolver)
    {
        Resolver = resolver;
    }

    /// <summary>A reader for this host: <c>/proc</c> and the mounts of the calling process.</summary>
    public CgroupMemoryReader()
        : this(new CgroupResolver(ProcFileSystem.Default))
    {
    }

    public CgroupResolver Resolver { get; }

    /// <summary>
    /// Reads the memory cgroup of <paramref name="pid"/>. False when the process is gone, its memory cgroup is not
    /// visible from this process, or the cgroup was removed meanwhile.
    /// </summary>
    public bool TryRead(int pid, FileBuffer buffer, [NotNullWhen(true)] out CgroupMemory? memory)
    {
        memory = null;
        return Resolver.TryResolveMemory(pid, buffer, out CgroupLocation? location)
            && location is not null
            && CgroupMemory.TryRead(location, buffer, out memory);
    }
}

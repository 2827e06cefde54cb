using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Regions;

/// <summary>
/// The <see cref="RegionKind"/> a mapping's path and sharing give it in <c>/proc/PID/smaps</c>: <c>[heap]</c>,
/// <c>[stack]</c>, shared memory, files (code when executable), kernel mappings. <see cref="RegionKind.Anon"/> means
/// private anonymous, which <see cref="RegionClassifier"/> decides from the mapping's shape and neighbours.
/// </summary>
internal static class MappingPathKind
{
    public static RegionKind Of(in MappingHeader header)
    {
        ReadOnlySpan<byte> path = header.Path;
        bool shared = header.IsShared;
        if (path.IsEmpty)
        {
            return shared ? RegionKind.Shmem : RegionKind.Anon;
        }

        if (path[0] == (byte)'[')
        {
            if (path.SequenceEqual("[heap]"u8))
            {
                return RegionKind.Heap;
            }

            if (path.StartsWith("[stack"u8))
            {
                return RegionKind.Stack;
            }

            if (path.StartsWith("[anon_shmem:"u8))
            {
                return RegionKind.Shmem;
            }

            if (path.StartsWith("[anon:"u8))
            {
                return shared ? RegionKind.Shmem : RegionKind.Anon;
            }

            return RegionKind.Kernel;
        }

        if (path.StartsWith("/dev/shm/"u8) || path.StartsWith("/SYSV"u8) || path.StartsWith("/memfd:"u8))
        {
            return RegionKind.Shmem;
        }

        if (path.StartsWith("/dev/zero"u8))
        {
            return shared ? RegionKind.Shmem : RegionKind.Anon;
        }

        return (header.Permissions & MappingPermissions.Execute) != 0 ? RegionKind.FileCode : RegionKind.FileData;
    }
}

using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Assessment;

/// <summary>
/// What a process declares once, at start, that the assessment needs: its allocator's effective parameters (from the
/// environment). Resolved once per process incarnation; the environment and command line do not change.
/// </summary>
public sealed record ProcessParameters
{
    public static readonly ProcessParameters None = new();

    public GlibcMallocParameters? Glibc { get; init; }

    public JemallocParameters? Jemalloc { get; init; }

    public TcmallocParameters? Tcmalloc { get; init; }

    /// <summary>The parameters of <paramref name="allocator"/> as <paramref name="environment"/> sets them.</summary>
    public static ProcessParameters Resolve(AllocatorKind allocator, ProcEnviron? environment, int onlineCpus)
    {
        if (environment is null || environment.Count == 0)
        {
            return None;
        }

        Func<string, string?> lookup = name => environment.TryGetValue(name, out string? v) ? v : null;
        return allocator switch
        {
            AllocatorKind.Glibc => new ProcessParameters { Glibc = GlibcMallocParameters.FromEnvironment(lookup, onlineCpus) },
            AllocatorKind.Jemalloc => new ProcessParameters { Jemalloc = JemallocParameters.FromEnvironment(lookup, onlineCpus) },
            AllocatorKind.GperftoolsTcmalloc or AllocatorKind.GoogleTcmalloc => new ProcessParameters { Tcmalloc = TcmallocParameters.FromEnvironment(lookup) },
            _ => None,
        };
    }
}

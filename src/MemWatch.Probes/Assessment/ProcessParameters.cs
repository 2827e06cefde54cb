using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes;

namespace MemWatch.Probes.Assessment;

/// <summary>
/// What a process declares once, at start, that the assessment needs: its allocator's effective parameters (from the
/// environment) and its own memory limit (command line or environment). Resolved once per process incarnation; the
/// environment and command line do not change.
/// </summary>
public sealed record ProcessParameters
{
    public static readonly ProcessParameters None = new();

    public GlibcMallocParameters? Glibc { get; init; }

    public JemallocParameters? Jemalloc { get; init; }

    public TcmallocParameters? Tcmalloc { get; init; }

    /// <summary>The memory limit the process declares for itself (-Xmx, --max-old-space-size, GOMEMLIMIT, memcached -m, maxmemory).</summary>
    public DeclaredLimit? DeclaredLimit { get; init; }

    /// <summary>
    /// The parameters of <paramref name="allocator"/> as <paramref name="environment"/> sets them, and the limit the
    /// process declares on <paramref name="arguments"/> or in its environment for <paramref name="runtime"/>.
    /// </summary>
    public static ProcessParameters Resolve(AllocatorKind allocator, ProcEnviron? environment, int onlineCpus,
        RuntimeKind runtime = RuntimeKind.None, string comm = "", IReadOnlyList<string>? arguments = null)
    {
        Func<string, string?> lookup = name => environment is not null && environment.TryGetValue(name, out string? v) ? v : null;
        DeclaredLimit? limit = DeclaredLimits.Find(runtime, comm, arguments ?? [], lookup);
        if (environment is null || environment.Count == 0)
        {
            return limit is null ? None : new ProcessParameters { DeclaredLimit = limit };
        }

        ProcessParameters p = allocator switch
        {
            AllocatorKind.Glibc => new ProcessParameters { Glibc = GlibcMallocParameters.FromEnvironment(lookup, onlineCpus) },
            AllocatorKind.Jemalloc => new ProcessParameters { Jemalloc = JemallocParameters.FromEnvironment(lookup, onlineCpus) },
            AllocatorKind.GperftoolsTcmalloc or AllocatorKind.GoogleTcmalloc => new ProcessParameters { Tcmalloc = TcmallocParameters.FromEnvironment(lookup) },
            _ => new ProcessParameters(),
        };
        return p with { DeclaredLimit = limit };
    }
}

using MemWatch.Probes.Allocators;

namespace MemWatch.Daemon.Reports;

/// <summary>
/// Which allocator serves the process, as recognised from what it maps; with inspect --introspect, also what the
/// allocator itself says, asked through remote calls (the figures stay null when it was not asked or refused).
/// </summary>
internal sealed record AllocatorReport
{
    /// <summary>glibc, jemalloc, gperftools-tcmalloc, google-tcmalloc, musl or unknown.</summary>
    public required string Name { get; init; }

    /// <summary>True when a .NET runtime (libcoreclr) is loaded, whose GC heap sits beside the native allocator.</summary>
    public bool DotNetRuntime { get; init; }

    /// <summary>The library that provides malloc, when it is a shared object.</summary>
    public string? Library { get; init; }

    /// <summary>Bytes in live blocks, by the allocator's own count (--introspect).</summary>
    public ulong? InUseBytes { get; init; }

    /// <summary>Bytes the allocator holds free (--introspect).</summary>
    public ulong? FreeBytes { get; init; }

    /// <summary>What a trim would return: the allocator's own figure (jemalloc, tcmalloc) or the glibc trim model's (--introspect).</summary>
    public ulong? ReleasableBytes { get; init; }

    /// <summary>Bytes the allocator took from the system (--introspect).</summary>
    public ulong? SystemBytes { get; init; }

    /// <summary>glibc arenas including the main one, by malloc_info (--introspect).</summary>
    public int? Arenas { get; init; }

    /// <summary>"injected" when the figures above came from remote calls into the process; null otherwise.</summary>
    public string? Source { get; init; }

    /// <summary>The longest pause one remote call cost the target thread (--introspect).</summary>
    public long? PauseMicroseconds { get; init; }

    /// <summary>How many remote calls the reading took, and their pauses added up.</summary>
    public int? RemoteCalls { get; init; }

    public long? PauseMicrosecondsTotal { get; init; }

    /// <summary>Per glibc arena (--introspect); empty for other allocators or when not asked.</summary>
    public IReadOnlyList<ArenaReport> ArenaDetails { get; init; } = [];

    /// <summary>What the allocator's figures mean (e.g. that releasable is a model estimate).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Why --introspect got no figures: "not-safe", "permission-denied", "allocator-not-supported", ...</summary>
    public string? IntrospectionFailure { get; init; }

    /// <summary>The refusal or error in words.</summary>
    public string? IntrospectionError { get; init; }

    /// <summary>This report with what the allocator said (or why it could not be asked).</summary>
    public AllocatorReport WithIntrospection(AllocatorIntrospectionResult result)
    {
        if (result.Statistics is not { } s)
        {
            return this with { IntrospectionFailure = result.Failure, IntrospectionError = result.Error };
        }

        var arenas = new List<ArenaReport>(s.ArenaDetails.Count);
        foreach (ArenaStatistics a in s.ArenaDetails)
        {
            arenas.Add(new ArenaReport
            {
                Number = a.Number,
                SystemBytes = a.SystemBytes,
                InUseBytes = a.InUseBytes,
                FastbinFreeBytes = a.FastbinFreeBytes,
                TcacheFreeBytes = a.TcacheFreeBytes,
                BinFreeBytes = a.BinFreeBytes,
                TopBytes = a.TopBytes,
                ReleasableBytes = a.ReleasableBytes,
            });
        }

        return this with
        {
            InUseBytes = s.InUseBytes,
            FreeBytes = s.FreeBytes,
            ReleasableBytes = s.ReleasableBytes,
            SystemBytes = s.SystemBytes,
            Arenas = s.Arenas,
            Source = s.Source,
            PauseMicroseconds = s.PauseMicrosecondsMax,
            RemoteCalls = s.Calls,
            PauseMicrosecondsTotal = s.PauseMicrosecondsTotal,
            ArenaDetails = arenas,
            Notes = s.Notes,
        };
    }
}

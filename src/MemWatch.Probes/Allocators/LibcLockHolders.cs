using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// libc code that can block while holding locks the allocators' entry points need, whatever the allocator: fork holds
/// every glibc arena lock, the stdio list lock and (through pthread_atfork handlers) jemalloc's and tcmalloc's mutexes
/// across _Fork; malloc_stats and malloc_info hold an arena lock while they print (to a pipe that may be full); a
/// flush of every stream holds list_all_lock, which open_memstream and fclose take. These are looked for over the whole
/// live stack (<see cref="Injection.RemoteCallOptions.DeepForbiddenRanges"/>), since the printing code between them and
/// the stack pointer can take more than the 8 KiB the allocator's own ranges are looked for in.
/// </summary>
public static class LibcLockHolders
{
    private static readonly HashSet<string> s_names = new(StringComparer.Ordinal)
    {
        "fork", "__libc_fork", "_Fork", "__fork", "malloc_stats", "__malloc_stats", "malloc_info", "__malloc_info",
        "_IO_flush_all", "_IO_flush_all_lockp", "_IO_cleanup", "_IO_list_lock", "fcloseall", "__fcloseall",
    };

    /// <summary>The target address ranges of those functions in the target's libc.so.6; empty without one.</summary>
    public static IReadOnlyList<(ulong Start, ulong End)> Ranges(TargetSymbols symbols) =>
        symbols.FindModule("libc.so.6") is TargetModule libc ? TargetSymbols.FunctionRanges(libc, s_names.Contains) : [];
}

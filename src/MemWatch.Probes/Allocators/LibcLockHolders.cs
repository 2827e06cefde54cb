using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// libc code that runs while holding locks every allocator's entry points may need, whatever the allocator: fork holds
/// every glibc arena lock, the stdio list lock and (through pthread_atfork handlers) jemalloc's and tcmalloc's mutexes
/// across _Fork; the stdio functions that link, unlink or walk the FILE list hold list_all_lock, which open_memstream
/// and fclose take. A thread with any of these on its stack is not used for a call.
/// </summary>
public static class LibcLockHolders
{
    private static readonly HashSet<string> s_names = new(StringComparer.Ordinal)
    {
        "fork", "__libc_fork", "_Fork", "__fork",
        "_IO_flush_all", "_IO_flush_all_lockp", "_IO_cleanup", "_IO_list_lock", "_IO_list_resetlock", "_IO_link_in",
        "_IO_un_link", "fflush", "_IO_fflush", "fcloseall", "__fcloseall", "fclose", "_IO_fclose", "_IO_new_fclose",
        "fopen", "fopen64", "_IO_new_fopen", "__fopen_internal", "fdopen", "_IO_new_fdopen", "open_memstream",
        "open_wmemstream", "fmemopen", "__fmemopen", "_IO_old_fopen",
    };

    /// <summary>The target address ranges of those functions in the target's libc.so.6; empty without one.</summary>
    public static IReadOnlyList<(ulong Start, ulong End)> Ranges(TargetSymbols symbols) =>
        symbols.FindModule("libc.so.6") is TargetModule libc ? TargetSymbols.FunctionRanges(libc, s_names.Contains) : [];
}

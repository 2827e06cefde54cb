namespace MemWatch.Probes.Attribution;

/// <summary>What one perf event of an attribution capture observes.</summary>
public enum MemoryEventKind
{
    /// <summary>A user page fault (PERF_COUNT_SW_PAGE_FAULTS): a page about to become resident.</summary>
    PageFault,

    /// <summary>syscalls:sys_exit_brk: the new program break.</summary>
    BrkExit,

    /// <summary>syscalls:sys_enter_mmap: a new mapping of <c>len</c> bytes.</summary>
    MmapEnter,

    /// <summary>syscalls:sys_enter_munmap: [addr, addr+len) given back.</summary>
    MunmapEnter,

    /// <summary>syscalls:sys_enter_mremap: a mapping resized from old_len to new_len (and maybe moved).</summary>
    MremapEnter,

    /// <summary>syscalls:sys_exit_mremap: where the resized mapping now is.</summary>
    MremapExit,

    /// <summary>syscalls:sys_enter_madvise: MADV_DONTNEED, MADV_FREE and MADV_REMOVE drop pages.</summary>
    MadviseEnter,
}

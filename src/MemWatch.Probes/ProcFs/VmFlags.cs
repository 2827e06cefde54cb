namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The two-letter codes of the <c>VmFlags:</c> line of <c>/proc/PID/smaps</c> (kernel Documentation/filesystems/proc.rst,
/// fs/proc/task_mmu.c <c>show_smap_vma_flags</c>). Bit positions are MemWatch's own, not the kernel's VM_* bits.
/// Codes this enum does not know are ignored.
/// </summary>
[Flags]
public enum VmFlags : ulong
{
    None = 0,

    /// <summary><c>rd</c>: readable.</summary>
    Readable = 1UL << 0,

    /// <summary><c>wr</c>: writeable.</summary>
    Writeable = 1UL << 1,

    /// <summary><c>ex</c>: executable.</summary>
    Executable = 1UL << 2,

    /// <summary><c>sh</c>: shared.</summary>
    Shared = 1UL << 3,

    /// <summary><c>mr</c>: may read.</summary>
    MayRead = 1UL << 4,

    /// <summary><c>mw</c>: may write.</summary>
    MayWrite = 1UL << 5,

    /// <summary><c>me</c>: may execute.</summary>
    MayExecute = 1UL << 6,

    /// <summary><c>ms</c>: may share.</summary>
    MayShare = 1UL << 7,

    /// <summary><c>gd</c>: stack segment grows down.</summary>
    GrowsDown = 1UL << 8,

    /// <summary><c>pf</c>: pure PFN range.</summary>
    PfnMap = 1UL << 9,

    /// <summary><c>dw</c>: disabled write to the mapped file (old kernels).</summary>
    DenyWrite = 1UL << 10,

    /// <summary><c>lo</c>: pages are locked in memory.</summary>
    Locked = 1UL << 11,

    /// <summary><c>io</c>: memory-mapped I/O area.</summary>
    Io = 1UL << 12,

    /// <summary><c>sr</c>: sequential read advice provided.</summary>
    SequentialRead = 1UL << 13,

    /// <summary><c>rr</c>: random read advice provided.</summary>
    RandomRead = 1UL << 14,

    /// <summary><c>dc</c>: do not copy area on fork.</summary>
    DontCopy = 1UL << 15,

    /// <summary><c>de</c>: do not expand area on remapping.</summary>
    DontExpand = 1UL << 16,

    /// <summary><c>ac</c>: area is accountable (counted against the commit limit).</summary>
    Accountable = 1UL << 17,

    /// <summary><c>nr</c>: swap space is not reserved for the area (MAP_NORESERVE).</summary>
    NoReserve = 1UL << 18,

    /// <summary><c>ht</c>: area uses huge TLB pages.</summary>
    HugeTlb = 1UL << 19,

    /// <summary><c>sf</c>: synchronous page faults.</summary>
    SyncFaults = 1UL << 20,

    /// <summary><c>nl</c>: non-linear mapping (old kernels).</summary>
    NonLinear = 1UL << 21,

    /// <summary><c>ar</c>: architecture-specific flag.</summary>
    ArchSpecific = 1UL << 22,

    /// <summary><c>wf</c>: wipe on fork.</summary>
    WipeOnFork = 1UL << 23,

    /// <summary><c>dd</c>: do not include area in core dumps.</summary>
    DontDump = 1UL << 24,

    /// <summary><c>sd</c>: soft-dirty.</summary>
    SoftDirty = 1UL << 25,

    /// <summary><c>mm</c>: mixed map area.</summary>
    MixedMap = 1UL << 26,

    /// <summary><c>hg</c>: huge page advice (MADV_HUGEPAGE).</summary>
    HugePage = 1UL << 27,

    /// <summary><c>nh</c>: no huge page advice (MADV_NOHUGEPAGE).</summary>
    NoHugePage = 1UL << 28,

    /// <summary><c>mg</c>: mergeable advice (KSM).</summary>
    Mergeable = 1UL << 29,

    /// <summary><c>bt</c>: arm64 BTI guarded page.</summary>
    BtiGuarded = 1UL << 30,

    /// <summary><c>mt</c>: arm64 MTE allocation tags enabled.</summary>
    MteTagged = 1UL << 31,

    /// <summary><c>um</c>: userfaultfd missing tracking.</summary>
    UffdMissing = 1UL << 32,

    /// <summary><c>uw</c>: userfaultfd write-protect tracking.</summary>
    UffdWriteProtect = 1UL << 33,

    /// <summary><c>ui</c>: userfaultfd minor-fault tracking.</summary>
    UffdMinor = 1UL << 34,

    /// <summary><c>ss</c>: shadow stack.</summary>
    ShadowStack = 1UL << 35,

    /// <summary><c>sl</c>: sealed (mseal).</summary>
    Sealed = 1UL << 36,

    /// <summary><c>lf</c>: lock pages on fault.</summary>
    LockOnFault = 1UL << 37,

    /// <summary><c>dp</c>: always lazily freeable (droppable).</summary>
    Droppable = 1UL << 38,

    /// <summary><c>gu</c>: may contain guard regions (MADV_GUARD_INSTALL).</summary>
    MaybeGuard = 1UL << 39,
}

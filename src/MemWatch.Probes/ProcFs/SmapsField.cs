namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The size fields of <c>/proc/PID/smaps</c> and <c>/proc/PID/smaps_rollup</c> (proc(5), kernel
/// Documentation/filesystems/proc.rst), in the order the kernel prints them. The kernel reports kB; readers store bytes.
/// </summary>
/// <remarks><c>Pss_Anon</c>, <c>Pss_File</c> and <c>Pss_Shmem</c> appear only in smaps_rollup.</remarks>
public enum SmapsField
{
    Size,
    KernelPageSize,
    MmuPageSize,
    Rss,
    Pss,
    PssDirty,
    PssAnon,
    PssFile,
    PssShmem,
    SharedClean,
    SharedDirty,
    PrivateClean,
    PrivateDirty,
    Referenced,
    Anonymous,
    Ksm,
    LazyFree,
    AnonHugePages,
    ShmemPmdMapped,
    FilePmdMapped,
    SharedHugetlb,
    PrivateHugetlb,
    Swap,
    SwapPss,
    Locked,
}

using System.Runtime.InteropServices;

namespace MemWatch.Probes.Injection;

/// <summary>
/// Proves, for a thread under seccomp filters, that no system call a remote call makes it issue can have another outcome
/// than under no filter: every filter (fetched with PTRACE_SECCOMP_GET_FILTER, which needs CAP_SYS_ADMIN) must return
/// SECCOMP_RET_ALLOW for each of <see cref="PathSyscalls"/> whatever the arguments (<see cref="SeccompProgram.Actions"/>).
/// Strict mode (only read, write, _exit and sigreturn) is refused outright.
/// </summary>
internal static class SeccompGate
{
    /// <summary>
    /// rt_sigreturn (the return path) and what the allocators' entry points may call: mmap, mprotect, munmap, brk,
    /// sched_yield, mremap, madvise, nanosleep, getpid, prctl (glibc names arena mappings), gettid, futex, getrandom.
    /// A callee system call outside this set fails the call (<see cref="IsCovered"/>).
    /// </summary>
    public static readonly int[] PathSyscalls = [15, 9, 10, 11, 12, 24, 25, 28, 35, 39, 157, 186, 202, 318];

    private const int Enoent = 2;

    private const int CapSysAdmin = 21;

    public static bool IsCovered(long nr) => Array.IndexOf(PathSyscalls, (int)nr) >= 0;

    /// <summary>Null when the thread may run a call; otherwise why not.</summary>
    /// <param name="tid">The thread, stopped by this tracer (PTRACE_SECCOMP_GET_FILTER needs a ptrace stop).</param>
    /// <param name="mode">The thread's <c>Seccomp:</c> field: 0 none, 1 strict, 2 filter.</param>
    public static string? Check(int tid, int mode)
    {
        if (mode == 0)
        {
            return null;
        }

        if (mode == 1)
        {
            return "it runs in seccomp strict mode (only read, write, _exit and sigreturn allowed): the allocator's own system calls would kill it";
        }

        byte[] buffer = new byte[4096 * 8];
        for (int index = 0; ; index++)
        {
            long count = Interop.Libc.PtraceSeccompGetFilter(tid, index, []);
            if (count < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                if (e == Enoent && index > 0)
                {
                    return null;
                }

                return $"its seccomp filters cannot be read to prove the call's system calls allowed (PTRACE_SECCOMP_GET_FILTER errno {e}): {WhyFiltersUnreadable()}";
            }

            if (count == 0 || count > 4096 || Interop.Libc.PtraceSeccompGetFilter(tid, index, buffer.AsSpan(0, (int)count * 8)) != count)
            {
                return $"seccomp filter {index} could not be read whole ({count} instructions)";
            }

            SeccompProgram program = SeccompProgram.Parse(buffer.AsSpan(0, (int)count * 8));
            foreach (int nr in PathSyscalls)
            {
                HashSet<uint>? actions = program.Actions(nr);
                if (actions is null)
                {
                    return $"seccomp filter {index} ({count} instructions) could not be evaluated for system call {nr}";
                }

                if (actions.Count != 1 || !actions.Contains(SeccompProgram.RetAllow))
                {
                    return $"seccomp filter {index} does not plainly allow system call {nr} (actions {string.Join(", ", actions.Select(a => $"0x{a:x8}"))}), which a call may make";
                }
            }
        }
    }

    /// <summary>
    /// The kernel hands a filter only to a tracer with CAP_SYS_ADMIN that runs under no seccomp filter itself
    /// (seccomp_get_filter). A MemWatch started by systemd with SystemCallFilter= (or MemoryDenyWriteExecute=,
    /// RestrictNamespaces=, LockPersonality=, SystemCallArchitectures=, which install filters too) never has one.
    /// </summary>
    private static string WhyFiltersUnreadable()
    {
        var buffer = new ProcFs.FileBuffer(4096);
        if (!ProcFs.ProcStatus.TryRead(ProcFs.ProcFileSystem.Default, Environment.ProcessId, buffer, out ProcFs.ProcStatus? self))
        {
            return "the kernel gives a target's filters only to a tracer with CAP_SYS_ADMIN that runs under no seccomp filter itself";
        }

        if (self.Seccomp is not (null or 0))
        {
            return "MemWatch itself runs under a seccomp filter (a systemd unit's SystemCallFilter=, MemoryDenyWriteExecute= and similar settings install one), " +
                "and the kernel gives a target's filters only to an unfiltered tracer; filtered targets are refused";
        }

        return !PtraceDiagnosis.HasCapability(CapSysAdmin)
            ? "MemWatch lacks CAP_SYS_ADMIN, which the kernel requires to give a target's filters to a tracer; filtered targets are refused"
            : "the kernel gives a target's filters only to a tracer with CAP_SYS_ADMIN that runs under no seccomp filter itself";
    }
}

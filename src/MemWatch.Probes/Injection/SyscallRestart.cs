namespace MemWatch.Probes.Injection;

/// <summary>
/// What a thread stopped by PTRACE_INTERRUPT inside a blocking system call needs so that it never sees the stop:
/// which calls the stop turns into a plain -EINTR, which ones swap in a temporary signal mask, and the registers that
/// re-issue the call (x86_64 numbers, arch/x86/entry/syscalls/syscall_64.tbl; restart codes, include/linux/errno.h).
/// </summary>
/// <remarks>
/// At a PTRACE_EVENT_STOP the thread is inside get_signal: on resume the kernel itself restarts the call for -ERESTART*
/// when no handler runs and returns -EINTR when one does (arch_do_signal_or_restart). Restoring the registers of that
/// stop exactly therefore keeps the kernel's own semantics; only two things need care. Calls that fail with -EINTR on
/// any signal (epoll_wait, rt_sigtimedwait, semop, io_getevents) are given -ERESTARTNOHAND, which restarts them when no
/// handler runs and still gives -EINTR when one does. -ERESTART_RESTARTBLOCK restarts through current->restart_block,
/// which an rt_sigreturn resets (kernel/signal.c, restore_sigcontext callers), and the engine's return path runs one:
/// such a call is re-issued with its original number and arguments instead, which may return late, never early.
/// </remarks>
internal static class SyscallRestart
{
    public const long Eintr = -4;
    public const long RtSigtimedwait = 128;
    public const long RestartSyscall = 219;

    // epoll_wait, rt_sigtimedwait, semop, semtimedop, io_getevents, epoll_pwait, epoll_pwait2: -EINTR whenever a signal
    // (or a ptrace stop) wakes them.
    private static readonly long[] s_eintrOnStop = [232, 128, 65, 220, 208, 281, 441];

    // rt_sigsuspend, pselect6, ppoll, epoll_pwait, io_pgetevents, epoll_pwait2: the real mask is kept in saved_sigmask while
    // they wait, where ptrace cannot read it, so the engine cannot hold signals back around a call made on such a thread.
    private static readonly long[] s_maskSwapping = [130, 270, 271, 281, 333, 441];

    // ppoll (arg 4), epoll_pwait and epoll_pwait2 (arg 5) pass the mask as a plain pointer argument, and the kernel's
    // set_user_sigmask (kernel/signal.c) returns at once for a NULL one, before it touches saved_sigmask or sets
    // TIF_RESTORE_SIGMASK: such a wait runs with the thread's own mask, like epoll_wait or poll. pselect6 and
    // io_pgetevents pass it inside a struct in the target's memory, rt_sigsuspend always swaps: those stay refused.
    private static readonly (long Syscall, int Argument)[] s_maskArgument = [(271, 4), (281, 5), (441, 5)];

    /// <summary>True when <paramref name="syscall"/> may wait with a temporary signal mask (see the field's comment).</summary>
    public static bool SwapsSignalMask(long syscall) => Array.IndexOf(s_maskSwapping, syscall) >= 0;

    /// <summary>
    /// True when <paramref name="syscall"/>, called with <paramref name="arguments"/> (its six, in order; empty when
    /// unknown), waits with a temporary signal mask: always for rt_sigsuspend, pselect6 and io_pgetevents, and for ppoll,
    /// epoll_pwait and epoll_pwait2 only when their mask pointer is not NULL.
    /// </summary>
    public static bool SwapsSignalMask(long syscall, ReadOnlySpan<ulong> arguments)
    {
        if (!SwapsSignalMask(syscall))
        {
            return false;
        }

        foreach ((long nr, int argument) in s_maskArgument)
        {
            if (nr == syscall)
            {
                return arguments.Length < argument || arguments[argument - 1] != 0;
            }
        }

        return true;
    }

    /// <summary>The six system call arguments of a stop (x86_64: rdi, rsi, rdx, r10, r8, r9, unchanged while the call waits).</summary>
    public static ulong[] Arguments(in UserRegs regs) => [regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9];

    /// <summary>True when a ptrace stop makes <paramref name="syscall"/> fail with -EINTR (see the field's comment).</summary>
    public static bool FailsWithEintrOnStop(long syscall) => Array.IndexOf(s_eintrOnStop, syscall) >= 0;

    /// <summary>True when the stop leaves the thread inside a system call the kernel will restart or complete.</summary>
    public static bool IsInterruptedSyscall(in UserRegs regs) =>
        unchecked((long)regs.OrigRax) >= 0 && unchecked((long)regs.Rax) is X64CallAbi.ERestartSys or X64CallAbi.ERestartNoIntr
            or X64CallAbi.ERestartNoHand or X64CallAbi.ERestartRestartBlock;

    /// <summary>
    /// The registers of a stop made safe to release from: a call in <c>s_eintrOnStop</c> that returned -EINTR gets
    /// -ERESTARTNOHAND, and -ERESTART_RESTARTBLOCK (outside restart_syscall itself) becomes -ERESTARTNOHAND too, so the
    /// kernel re-issues the original call rather than restart_syscall: the latter's restart block does not survive the
    /// call's rt_sigreturn, and a seccomp allow-list need not allow restart_syscall (the thread never issued it). Written
    /// back at once, so that every release from this stop, with a call or without, restarts what the stop interrupted.
    /// </summary>
    public static bool TryNormalizeAtStop(ref UserRegs regs)
    {
        long nr = unchecked((long)regs.OrigRax);
        long rax = unchecked((long)regs.Rax);
        if (nr >= 0 && ((rax == Eintr && Array.IndexOf(s_eintrOnStop, nr) >= 0) || (rax == X64CallAbi.ERestartRestartBlock && nr != RestartSyscall)))
        {
            regs.Rax = unchecked((ulong)X64CallAbi.ERestartNoHand);
            return true;
        }

        return false;
    }

    /// <summary>
    /// The registers to restore at the final stop after a call: those of the first stop, with -ERESTART_RESTARTBLOCK turned
    /// into -ERESTARTNOHAND (the restart block is gone after the return path's rt_sigreturn; see the remarks).
    /// </summary>
    public static UserRegs ForRelease(in UserRegs saved)
    {
        UserRegs r = saved;
        if (unchecked((long)saved.OrigRax) >= 0 && unchecked((long)saved.Rax) == X64CallAbi.ERestartRestartBlock)
        {
            r.Rax = unchecked((ulong)X64CallAbi.ERestartNoHand);
        }

        return r;
    }

    /// <summary>Why a thread stopped in this state must not run a call, or null.</summary>
    public static string? Refusal(in UserRegs regs)
    {
        long nr = unchecked((long)regs.OrigRax);
        if (nr == RestartSyscall && IsInterruptedSyscall(regs))
        {
            return "it is in restart_syscall, whose state (restart_block) the call's rt_sigreturn would reset";
        }

        if (SwapsSignalMask(nr, Arguments(regs)) && IsInterruptedSyscall(regs))
        {
            return $"it waits in system call {nr} with a temporary signal mask, so signals could not be held back during a call";
        }

        return null;
    }
}

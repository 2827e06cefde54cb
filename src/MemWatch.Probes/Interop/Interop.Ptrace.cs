using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // linux/ptrace.h
        internal const int PTRACE_CONT = 7;
        internal const int PTRACE_DETACH = 17;
        internal const int PTRACE_SYSCALL = 24;
        internal const int PTRACE_GETREGS = 12;
        internal const int PTRACE_SETREGS = 13;
        internal const int PTRACE_GETSIGINFO = 0x4202;
        internal const int PTRACE_GETREGSET = 0x4204;
        internal const int PTRACE_SETREGSET = 0x4205;
        internal const int PTRACE_SEIZE = 0x4206;
        internal const int PTRACE_INTERRUPT = 0x4207;
        internal const int PTRACE_GETSIGMASK = 0x420a;
        internal const int PTRACE_SETSIGMASK = 0x420b;
        internal const int PTRACE_SECCOMP_GET_FILTER = 0x420c;
        internal const int PTRACE_O_TRACESYSGOOD = 1;
        internal const int PTRACE_EVENT_STOP = 128;

        // elf.h
        internal const int NT_X86_XSTATE = 0x202;

        /// <summary>glibc declares ptrace variadic; the four-argument form is what the kernel takes.</summary>
        [LibraryImport("libc", EntryPoint = "ptrace", SetLastError = true)]
        private static partial long PtraceRaw(long request, int pid, nint addr, nint data);

        internal static long Ptrace(int request, int tid, nint addr, nint data) => PtraceRaw(request, tid, addr, data);

        internal static unsafe long PtraceGetRegs(int tid, out UserRegs regs)
        {
            fixed (UserRegs* p = &regs)
            {
                return PtraceRaw(PTRACE_GETREGS, tid, 0, (nint)p);
            }
        }

        internal static unsafe long PtraceSetRegs(int tid, in UserRegs regs)
        {
            fixed (UserRegs* p = &regs)
            {
                return PtraceRaw(PTRACE_SETREGS, tid, 0, (nint)p);
            }
        }

        /// <summary>PTRACE_GETREGSET; returns the length the kernel filled in, or -1.</summary>
        internal static unsafe long PtraceGetRegSet(int tid, int noteType, Span<byte> buffer)
        {
            fixed (byte* b = buffer)
            {
                var iov = new IoVec { Base = b, Length = (nuint)buffer.Length };
                long r = PtraceRaw(PTRACE_GETREGSET, tid, noteType, (nint)(&iov));
                return r < 0 ? r : (long)iov.Length;
            }
        }

        internal static unsafe long PtraceSetRegSet(int tid, int noteType, ReadOnlySpan<byte> buffer)
        {
            fixed (byte* b = buffer)
            {
                var iov = new IoVec { Base = b, Length = (nuint)buffer.Length };
                return PtraceRaw(PTRACE_SETREGSET, tid, noteType, (nint)(&iov));
            }
        }

        /// <summary>PTRACE_GETSIGMASK: the thread's blocked set (the kernel's 8-byte sigset_t).</summary>
        internal static unsafe long PtraceGetSigMask(int tid, out ulong mask)
        {
            ulong m = 0;
            long r = PtraceRaw(PTRACE_GETSIGMASK, tid, sizeof(ulong), (nint)(&m));
            mask = m;
            return r;
        }

        /// <summary>PTRACE_SETSIGMASK: replaces the blocked set (the kernel keeps SIGKILL and SIGSTOP unblocked).</summary>
        internal static unsafe long PtraceSetSigMask(int tid, ulong mask) => PtraceRaw(PTRACE_SETSIGMASK, tid, sizeof(ulong), (nint)(&mask));

        /// <summary>
        /// PTRACE_SECCOMP_GET_FILTER: copies the <paramref name="index"/>-th filter of a stopped tracee (0 = the newest)
        /// as 8-byte sock_filter instructions and returns their count; with an empty buffer only counts. Needs CAP_SYS_ADMIN.
        /// </summary>
        internal static unsafe long PtraceSeccompGetFilter(int tid, int index, Span<byte> instructions)
        {
            fixed (byte* b = instructions)
            {
                return PtraceRaw(PTRACE_SECCOMP_GET_FILTER, tid, index, instructions.IsEmpty ? 0 : (nint)b);
            }
        }

        /// <summary>PTRACE_GETSIGINFO: the signal number, si_code and si_addr of the stop's siginfo.</summary>
        internal static unsafe long PtraceGetSigInfo(int tid, out int signo, out int code, out ulong address)
        {
            // siginfo_t is 128 bytes: si_signo @0, si_errno @4, si_code @8, si_addr @16 for faults.
            byte* info = stackalloc byte[128];
            long r = PtraceRaw(PTRACE_GETSIGINFO, tid, 0, (nint)info);
            signo = *(int*)info;
            code = *(int*)(info + 8);
            address = *(ulong*)(info + 16);
            return r;
        }
    }
}

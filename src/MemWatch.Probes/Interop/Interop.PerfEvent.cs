using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    /// <summary>perf_event_open(2) and the ioctls, mmap and constants the attribution sampler uses.</summary>
    internal static partial class PerfEvent
    {
        internal const uint PERF_TYPE_SOFTWARE = 1;
        internal const uint PERF_TYPE_TRACEPOINT = 2;
        internal const ulong PERF_COUNT_SW_PAGE_FAULTS = 2;

        internal const ulong PERF_SAMPLE_IP = 1UL << 0;
        internal const ulong PERF_SAMPLE_TID = 1UL << 1;
        internal const ulong PERF_SAMPLE_TIME = 1UL << 2;
        internal const ulong PERF_SAMPLE_ADDR = 1UL << 3;
        internal const ulong PERF_SAMPLE_PERIOD = 1UL << 8;
        internal const ulong PERF_SAMPLE_RAW = 1UL << 10;
        internal const ulong PERF_SAMPLE_REGS_USER = 1UL << 12;
        internal const ulong PERF_SAMPLE_STACK_USER = 1UL << 13;
        internal const ulong PERF_SAMPLE_IDENTIFIER = 1UL << 16;

        // Bits of the perf_event_attr bit-field, in declaration order.
        internal const ulong FlagDisabled = 1UL << 0;
        internal const ulong FlagInherit = 1UL << 1;
        internal const ulong FlagExcludeHv = 1UL << 6;
        internal const ulong FlagWatermark = 1UL << 14;
        internal const ulong FlagExcludeCallchainKernel = 1UL << 21;
        internal const ulong FlagUseClockId = 1UL << 25;
        internal const int CLOCK_MONOTONIC = 1;
        internal const ulong FlagInheritThread = 1UL << 35;

        internal const uint PERF_RECORD_LOST = 2;
        internal const uint PERF_RECORD_SAMPLE = 9;

        internal const uint PERF_FLAG_FD_CLOEXEC = 8;

        // _IO('$', 0) .. : ENABLE, DISABLE; _IO('$', 5) SET_OUTPUT; _IOR('$', 7, u64) ID.
        internal const ulong PERF_EVENT_IOC_ENABLE = 0x2400;
        internal const ulong PERF_EVENT_IOC_DISABLE = 0x2401;
        internal const ulong PERF_EVENT_IOC_SET_OUTPUT = 0x2405;
        internal const ulong PERF_EVENT_IOC_ID = 0x80082407;

        private const long SYS_perf_event_open = 298;

        internal const int PROT_READ = 1;
        internal const int PROT_WRITE = 2;
        internal const int MAP_SHARED = 1;

        [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
        private static unsafe partial long Syscall5(long number, PerfEventAttr* attr, int pid, int cpu, int groupFd, ulong flags);

        [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        private static partial int IoctlValue(int fd, ulong request, nint argument);

        [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        private static unsafe partial int IoctlPointer(int fd, ulong request, ulong* argument);

        [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
        internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

        [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
        internal static partial int Munmap(nint address, nuint length);

        /// <summary>Opens one event; returns the fd or -1 with errno set.</summary>
        internal static unsafe int Open(ref PerfEventAttr attr, int pid, int cpu)
        {
            attr.Size = (uint)sizeof(PerfEventAttr);
            fixed (PerfEventAttr* a = &attr)
            {
                return (int)Syscall5(SYS_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
            }
        }

        internal static int Ioctl(int fd, ulong request, nint argument) => IoctlValue(fd, request, argument);

        /// <summary>The kernel's id of an event (PERF_EVENT_IOC_ID), which PERF_SAMPLE_IDENTIFIER puts in its samples.</summary>
        internal static unsafe bool TryGetId(int fd, out ulong id)
        {
            ulong value = 0;
            int rc = IoctlPointer(fd, PERF_EVENT_IOC_ID, &value);
            id = value;
            return rc == 0;
        }
    }
}

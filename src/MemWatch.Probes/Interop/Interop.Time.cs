using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        private const int CLOCK_MONOTONIC = 1;

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
        private static unsafe partial int ClockNanosleep(int clock, int flags, TimeSpec* request, TimeSpec* remain);

        /// <summary>Sleeps with microsecond resolution (Thread.Sleep rounds up to milliseconds).</summary>
        internal static unsafe void SleepMicroseconds(long microseconds)
        {
            var ts = new TimeSpec { Seconds = microseconds / 1_000_000, Nanoseconds = microseconds % 1_000_000 * 1000 };
            ClockNanosleep(CLOCK_MONOTONIC, 0, &ts, null);
        }
    }
}

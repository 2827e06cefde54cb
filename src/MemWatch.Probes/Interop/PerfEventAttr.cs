using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    /// <summary>
    /// struct perf_event_attr (include/uapi/linux/perf_event.h) up to PERF_ATTR_SIZE_VER7 (128 bytes); the flag
    /// bit-field is one u64 here, its bits named by <see cref="PerfEvent"/>.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    internal struct PerfEventAttr
    {
        public uint Type;
        public uint Size;
        public ulong Config;
        public ulong SamplePeriod;
        public ulong SampleType;
        public ulong ReadFormat;
        public ulong Flags;
        public uint WakeupEvents;
        public uint BpType;
        public ulong Config1;
        public ulong Config2;
        public ulong BranchSampleType;
        public ulong SampleRegsUser;
        public uint SampleStackUser;
        public int ClockId;
        public ulong SampleRegsIntr;
        public uint AuxWatermark;
        public ushort SampleMaxStack;
        public ushort Reserved2;
        public uint AuxSampleSize;
        public uint Reserved3;
        public ulong SigData;
    }
}

using System.Runtime.InteropServices;

namespace MemWatch.Probes;

/// <summary>struct iovec (sys/uio.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}

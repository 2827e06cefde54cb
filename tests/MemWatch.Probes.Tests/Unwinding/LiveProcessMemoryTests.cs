using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Tests.Unwinding;

/// <summary>The page cache over process_vm_readv, on this test process's own memory.</summary>
public sealed class LiveProcessMemoryTests
{
    private const int Page = 4096;
    private const ulong Unmapped = 0x1000; // below mmap_min_addr: never mapped

    [Fact]
    public void Prefetch_ReadsTheLeadingReadablePagesInOneCall_TheRestOnDemand()
    {
        (byte[] array, int start, ulong p0) = PinnedPages(3);
        for (int i = 0; i < 3 * Page; i++)
        {
            array[start + i] = (byte)((i * 7 / Page) + i);
        }

        var memory = new LiveProcessMemory(Environment.ProcessId);
        memory.Prefetch([p0 + 100, p0 + Page + 5, p0 + 200, Unmapped, p0 + (2 * Page)]);
        Assert.Equal(1, memory.SystemCalls);

        // The two pages before the unreadable one came with the prefetch; the one after it is read on demand.
        byte[] got = new byte[2 * Page];
        Assert.True(memory.TryRead(p0, got));
        Assert.Equal(1, memory.SystemCalls);
        Assert.Equal(array.AsSpan(start, 2 * Page).ToArray(), got);

        Assert.True(memory.TryReadU64(p0 + (2 * Page) + 8, out ulong third));
        Assert.Equal(2, memory.SystemCalls);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(array.AsSpan(start + (2 * Page) + 8)), third);

        Assert.False(memory.TryReadU64(Unmapped, out _));
    }

    [Fact]
    public void Reset_ForgetsPrefetchedPages()
    {
        (byte[] array, int start, ulong p0) = PinnedPages(1);
        array[start] = 1;
        var memory = new LiveProcessMemory(Environment.ProcessId);
        memory.Prefetch([p0]);
        array[start] = 2;
        Assert.True(memory.TryReadU64(p0, out ulong cached));
        Assert.Equal(1UL, cached & 0xff);

        memory.Reset();
        Assert.True(memory.TryReadU64(p0, out ulong fresh));
        Assert.Equal(2UL, fresh & 0xff);
    }

    // A pinned array holding `pages` whole pages: the array, the index of the first page, and its address.
    private static (byte[] Array, int Start, ulong Address) PinnedPages(int pages)
    {
        byte[] array = GC.AllocateArray<byte>((pages + 1) * Page, pinned: true);
        ulong address = (ulong)Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        int start = (int)((Page - (address % Page)) % Page);
        return (array, start, address + (ulong)start);
    }
}

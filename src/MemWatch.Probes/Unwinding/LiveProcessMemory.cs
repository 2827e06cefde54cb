using System.Buffers.Binary;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// Memory of a live (normally ptrace-stopped) process read with process_vm_readv, one page at a time through a small
/// page cache: an unwind reads a few words per frame from the same few stack pages, so one system call per page
/// instead of one per word. The cache is only valid while the thread stays stopped: call <see cref="Reset"/> (or
/// make a new instance) for each stop.
/// </summary>
public sealed class LiveProcessMemory : IUnwindMemory
{
    private const int PageSize = 4096;
    private const int CachedPages = 8;

    private readonly byte[] _pages = new byte[PageSize * CachedPages];
    private readonly ulong[] _pageAddress = new ulong[CachedPages];
    private readonly bool[] _pageValid = new bool[CachedPages];
    private int _next;

    public LiveProcessMemory(int pid)
    {
        Pid = pid;
    }

    public int Pid { get; }

    /// <summary>How many process_vm_readv calls this instance made (for the benchmark and tests).</summary>
    public long SystemCalls { get; private set; }

    /// <summary>Forgets every cached page (the process ran since they were read).</summary>
    public void Reset()
    {
        Array.Clear(_pageValid);
        _next = 0;
    }

    /// <summary>
    /// Loads the pages holding <paramref name="addresses"/> (those not cached yet, at most the cache's size) in one
    /// process_vm_readv, in the order given: the kernel stops at the first page it cannot read, and that page and the
    /// ones after it are left to be read on demand. For the pages a check is known to read (the stack at rsp, the lock
    /// words), so that one system call does the work of several.
    /// </summary>
    public void Prefetch(ReadOnlySpan<ulong> addresses)
    {
        Span<ulong> pages = stackalloc ulong[CachedPages];
        int n = 0;
        foreach (ulong a in addresses)
        {
            ulong page = a & ~(ulong)(PageSize - 1);
            if (n < CachedPages && Find(page) < 0 && !pages[..n].Contains(page))
            {
                pages[n++] = page;
            }
        }

        if (n == 0)
        {
            return;
        }

        int first = _next + n <= CachedPages ? _next : 0;
        SystemCalls++;
        int read = Libc.ReadProcessMemoryRanges(Pid, pages[..n], PageSize, _pages.AsSpan(first * PageSize, n * PageSize));
        for (int i = 0; i < n; i++)
        {
            _pageAddress[first + i] = pages[i];
            _pageValid[first + i] = i < read;
        }

        _next = (first + n) % CachedPages;
    }

    public bool TryReadU64(ulong address, out ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        bool ok = TryRead(address, b);
        value = ok ? BinaryPrimitives.ReadUInt64LittleEndian(b) : 0;
        return ok;
    }

    public bool TryRead(ulong address, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong a = address + (ulong)done;
            if (a < address)
            {
                return false; // wrapped around the address space
            }

            ulong page = a & ~(ulong)(PageSize - 1);
            int slot = Find(page);
            if (slot < 0)
            {
                slot = Load(page);
                if (slot < 0)
                {
                    return false;
                }
            }

            int offset = (int)(a - page);
            int n = Math.Min(PageSize - offset, destination.Length - done);
            _pages.AsSpan((slot * PageSize) + offset, n).CopyTo(destination[done..]);
            done += n;
        }

        return true;
    }

    private int Find(ulong page)
    {
        for (int i = 0; i < CachedPages; i++)
        {
            if (_pageValid[i] && _pageAddress[i] == page)
            {
                return i;
            }
        }

        return -1;
    }

    private int Load(ulong page)
    {
        int slot = _next;
        _next = (_next + 1) % CachedPages;
        SystemCalls++;
        if (Libc.ReadProcessMemory(Pid, page, _pages.AsSpan(slot * PageSize, PageSize)) != PageSize)
        {
            _pageValid[slot] = false;
            return -1;
        }

        _pageAddress[slot] = page;
        _pageValid[slot] = true;
        return slot;
    }
}

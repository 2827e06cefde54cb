namespace MemWatch.Probes.ProcFs;

/// <summary>Reads bytes of another process's address space (the seam between the region classifier and <c>/proc/PID/mem</c>).</summary>
internal interface IProcessMemory
{
    /// <summary>Fills <paramref name="destination"/> from <paramref name="address"/>; false when the range is not readable.</summary>
    bool TryRead(ulong address, Span<byte> destination);

    /// <summary>
    /// Reads <paramref name="size"/> bytes at each of <paramref name="addresses"/> into consecutive slots of
    /// <paramref name="destination"/>; <paramref name="read"/>[i] says whether range i was read whole (a range reaching
    /// into an unmapped page is not, and its slot holds nothing to use). Cheapest when no range crosses a page.
    /// </summary>
    void ReadRanges(ReadOnlySpan<ulong> addresses, int size, Span<byte> destination, Span<bool> read)
    {
        for (int i = 0; i < addresses.Length; i++)
        {
            read[i] = TryRead(addresses[i], destination.Slice(i * size, size));
        }
    }
}

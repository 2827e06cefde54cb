namespace MemWatch.Probes.ProcFs;

/// <summary>Reads bytes of another process's address space (the seam between the region classifier and <c>/proc/PID/mem</c>).</summary>
internal interface IProcessMemory
{
    /// <summary>Fills <paramref name="destination"/> from <paramref name="address"/>; false when the range is not readable.</summary>
    bool TryRead(ulong address, Span<byte> destination);
}

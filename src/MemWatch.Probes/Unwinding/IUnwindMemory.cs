namespace MemWatch.Probes.Unwinding;

/// <summary>
/// Where the unwinder reads the target's memory: a live process (<see cref="LiveProcessMemory"/>) or a copy of a
/// user stack taken with a perf sample (<see cref="StackCopyMemory"/>).
/// </summary>
public interface IUnwindMemory
{
    /// <summary>Reads 8 bytes at <paramref name="address"/>; false when they are not readable.</summary>
    bool TryReadU64(ulong address, out ulong value);

    /// <summary>Fills <paramref name="destination"/> from <paramref name="address"/>; false unless every byte was read.</summary>
    bool TryRead(ulong address, Span<byte> destination);
}

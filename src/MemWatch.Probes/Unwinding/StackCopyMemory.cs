using System.Buffers.Binary;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// A copy of a thread's user stack starting at <see cref="BaseAddress"/> (what perf_event_open's
/// <c>PERF_SAMPLE_STACK_USER</c> gives, starting at the sampled rsp), optionally backed by another source for
/// addresses outside the copy. Without a fallback, a read outside the copy fails and the unwind ends there.
/// </summary>
public sealed class StackCopyMemory(ulong baseAddress, ReadOnlyMemory<byte> bytes, IUnwindMemory? fallback = null) : IUnwindMemory
{
    public ulong BaseAddress { get; } = baseAddress;

    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    public bool TryReadU64(ulong address, out ulong value)
    {
        if (address >= BaseAddress && address - BaseAddress <= (ulong)Math.Max(0, Bytes.Length - 8))
        {
            value = BinaryPrimitives.ReadUInt64LittleEndian(Bytes.Span[(int)(address - BaseAddress)..]);
            return Bytes.Length >= 8;
        }

        value = 0;
        return fallback is not null && fallback.TryReadU64(address, out value);
    }

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (address >= BaseAddress && address - BaseAddress <= (ulong)Bytes.Length
            && (ulong)destination.Length <= (ulong)Bytes.Length - (address - BaseAddress))
        {
            Bytes.Span.Slice((int)(address - BaseAddress), destination.Length).CopyTo(destination);
            return true;
        }

        return fallback is not null && fallback.TryRead(address, destination);
    }
}

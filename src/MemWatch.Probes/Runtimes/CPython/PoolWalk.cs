using System.Buffers;
using System.Buffers.Binary;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Runtimes.CPython;

/// <summary>
/// pymalloc's pool headers read in batches: addresses gathered across arenas and read a thousand at a time
/// (<see cref="IProcessMemory.ReadRanges"/>: one process_vm_readv each instead of one pread per pool), the counts summed
/// as they come. The buffers are pooled: a reading allocates nothing that outlives it.
/// </summary>
internal sealed class PoolWalk(IProcessMemory memory) : IDisposable
{
    // struct pool_header: the count of blocks in use at 0, szidx at 36; 40 bytes hold both and never cross a page
    // (pools are 16 KiB-aligned).
    private const int HeaderBytes = 40;
    private const int Batch = 1024;

    private readonly ulong[] _addresses = ArrayPool<ulong>.Shared.Rent(Batch);
    private readonly byte[] _headers = ArrayPool<byte>.Shared.Rent(Batch * HeaderBytes);
    private readonly bool[] _read = ArrayPool<bool>.Shared.Rent(Batch);
    private int _pending;
    private long _pools;

    public long PoolsInUse { get; private set; }

    public ulong BlockBytes { get; private set; }

    /// <summary>False once more than <see cref="PymallocReader.MaxPoolReads"/> pools were met: blocks in use are not counted.</summary>
    public bool Walked { get; private set; } = true;

    /// <summary>Queues the pool at <paramref name="pool"/>; past the bound nothing more is read (<see cref="Walked"/>).</summary>
    public void Add(ulong pool)
    {
        if (++_pools > PymallocReader.MaxPoolReads)
        {
            Walked = false;
            return;
        }

        _addresses[_pending++] = pool;
        if (_pending == Batch)
        {
            Flush();
        }
    }

    /// <summary>Reads the queued headers and counts the pools that hold blocks; a header that cannot be read is skipped.</summary>
    public void Flush()
    {
        if (_pending == 0)
        {
            return;
        }

        memory.ReadRanges(_addresses.AsSpan(0, _pending), HeaderBytes, _headers.AsSpan(0, _pending * HeaderBytes), _read.AsSpan(0, _pending));
        for (int i = 0; i < _pending; i++)
        {
            if (!_read[i])
            {
                continue;
            }

            ReadOnlySpan<byte> header = _headers.AsSpan(i * HeaderBytes, HeaderBytes);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint szidx = BinaryPrimitives.ReadUInt32LittleEndian(header[36..]);
            if (count == 0 || szidx >= 32)
            {
                continue;
            }

            PoolsInUse++;
            BlockBytes += Math.Min(count, (uint)(PymallocReader.PoolSize / 16)) * (ulong)(szidx + 1) * 16;
        }

        _pending = 0;
    }

    public void Dispose()
    {
        ArrayPool<ulong>.Shared.Return(_addresses);
        ArrayPool<byte>.Shared.Return(_headers);
        ArrayPool<bool>.Shared.Return(_read);
    }
}

using System.Buffers.Binary;
using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Runtimes.Go;

/// <summary>
/// Go's heap figures read through <c>/proc/PID/mem</c> at <c>runtime.memstats</c> (the executable's .symtab; absent
/// from binaries linked with -s), without stopping the program: the three generations of consistentHeapStats summed
/// as runtime.ReadMemStats does. Gives HeapInuse (inHeap), HeapReleased (released), idle-not-released spans
/// (committed − stacks − work buffers − GC bits − inHeap) and HeapAlloc (bytes of objects not yet swept free).
/// </summary>
/// <remarks>
/// The layout is the one of Go 1.19 (read from <c>runtime.buildVersion</c>): heapStatsDelta is 6 int64 deltas, tiny,
/// large and per-size-class counts for 68 classes (1176 bytes). Other versions are refused rather than misread.
/// Races with the program's own updates make a figure off by what was allocated during the read.
/// </remarks>
internal static class GoHeapReader
{
    private const int DeltaSize = 1176;
    private const int SizeClasses = 68;

    // runtime/sizeclasses.go of Go 1.19: class_to_size.
    private static readonly ushort[] s_classToSize =
    [
        0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480,
        512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376,
        6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576,
        27264, 28672, 32768,
    ];

    public static RuntimeReading Read(TargetSymbols symbols, IProcessMemory memory)
    {
        TargetModule? exe = symbols.Modules.Count > 0 ? symbols.Modules[0] : null;
        if (exe is null || !TargetSymbols.TryResolve(exe, "runtime.buildVersion", out TargetSymbolAddress versionSymbol))
        {
            return new RuntimeReading(RuntimeKind.Go, null, "go: no runtime.buildVersion symbol (a binary linked with -s has no symbol table)");
        }

        string? version = ReadGoString(memory, versionSymbol.Address);
        if (version is null || !(version == "go1.19" || version.StartsWith("go1.19.", StringComparison.Ordinal)))
        {
            return new RuntimeReading(RuntimeKind.Go, null, $"go: {version ?? "unknown version"}: only Go 1.19's runtime.memstats layout is known to memwatch");
        }

        if (!TargetSymbols.TryResolve(exe, "runtime.memstats", out TargetSymbolAddress stats))
        {
            return new RuntimeReading(RuntimeKind.Go, null, $"go {version}: no runtime.memstats symbol");
        }

        byte[] raw = new byte[3 * DeltaSize];
        if (!memory.TryRead(stats.Address, raw))
        {
            return new RuntimeReading(RuntimeKind.Go, null, $"go {version}: runtime.memstats could not be read");
        }

        long committed = 0, released = 0, inHeap = 0, inStacks = 0, inWorkBufs = 0, inBits = 0;
        double allocated = 0;
        for (int g = 0; g < 3; g++)
        {
            ReadOnlySpan<byte> d = raw.AsSpan(g * DeltaSize, DeltaSize);
            committed += I64(d, 0);
            released += I64(d, 8);
            inHeap += I64(d, 16);
            inStacks += I64(d, 24);
            inWorkBufs += I64(d, 32);
            inBits += I64(d, 40);
            allocated += (double)U64(d, 56) - U64(d, 616);
            for (int c = 1; c < SizeClasses; c++)
            {
                allocated += ((double)U64(d, 72 + (8 * c)) - U64(d, 632 + (8 * c))) * s_classToSize[c];
            }
        }

        long idle = committed - inStacks - inWorkBufs - inBits - inHeap;
        return new RuntimeReading(RuntimeKind.Go, new RuntimeHeapFigures
        {
            Runtime = RuntimeKind.Go,
            Source = "runtime.memstats (/proc/PID/mem)",
            Version = version,
            UsedBytes = allocated > 0 ? (ulong)allocated : 0,
            CommittedBytes = Positive(inHeap + Math.Max(0, idle)),
            IdleBytes = Positive(idle),
            ReleasedBytes = Positive(released),
        }, null);
    }

    private static ulong Positive(long v) => v > 0 ? (ulong)v : 0;

    private static long I64(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadInt64LittleEndian(d[offset..]);

    private static ulong U64(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(d[offset..]);

    /// <summary>A Go string header (pointer, length) and its bytes; null when unreadable or implausible.</summary>
    private static string? ReadGoString(IProcessMemory memory, ulong address)
    {
        Span<byte> header = stackalloc byte[16];
        if (!memory.TryRead(address, header))
        {
            return null;
        }

        ulong data = BinaryPrimitives.ReadUInt64LittleEndian(header);
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        if (length is 0 or > 64)
        {
            return null;
        }

        byte[] text = new byte[length];
        return memory.TryRead(data, text) ? Encoding.ASCII.GetString(text) : null;
    }
}

using System.Buffers.Binary;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Runtimes.CPython;

/// <summary>
/// CPython 3.11's pymalloc state read through <c>/proc/PID/mem</c>, without running code in the interpreter: the
/// arena table (<c>arenas</c>, <c>maxarenas</c>, file-local statics of Objects/obmalloc.c, found in the interpreter's
/// .symtab or its debug file, e.g. Debian's python3.11-dbg) and the header of every pool carved from a live arena.
/// Nothing is written and the process is not stopped, so the figures race with the interpreter: the table is read again
/// after the walk and a walk during which a pool was taken or emptied is not kept (blocks in use stay uncounted when
/// every attempt races); within a pool the count is off by the blocks allocated during the read. Every pointer and
/// count read is bounds-checked before use.
/// </summary>
/// <remarks>
/// 3.11 on 64-bit: 1 MiB arenas of 16 KiB pools; struct arena_object is 48 bytes (address, pool_address, nfreepools,
/// ntotalpools, freepools, nextarena, prevarena); struct pool_header starts with the count of blocks in use and holds
/// szidx at 36 (block size (szidx + 1) × 16). Other versions lay this out differently (3.12 moved it into
/// _PyRuntime) and are refused.
/// </remarks>
internal static class PymallocReader
{
    public const ulong ArenaSize = 1UL << 20;
    public const ulong PoolSize = 16UL << 10;
    private const int ArenaObjectSize = 48;
    // The arena table's size and the pools walked come from the target: bounded so that a corrupt or hostile table
    // costs at most a 3 MiB buffer and 2^18 pool headers (4 GiB of pools) per reading.
    private const uint MaxArenas = 1 << 16;
    internal const long MaxPoolReads = 1 << 18;
    private const int Attempts = 3;

    public static RuntimeReading Read(TargetSymbols symbols, IProcessMemory memory)
    {
        if (Interpreter(symbols) is not { } module)
        {
            return new RuntimeReading(RuntimeKind.CPython, null, "cpython: no interpreter module found");
        }

        if (!TargetSymbols.TryResolve(module, "Py_Version", out TargetSymbolAddress versionSymbol) || ReadU64(memory, versionSymbol.Address) is not { } hex)
        {
            return new RuntimeReading(RuntimeKind.CPython, null, "cpython: no Py_Version (before 3.11): its pymalloc layout is not known to memwatch");
        }

        int major = (int)(hex >> 24 & 0xff), minor = (int)(hex >> 16 & 0xff);
        string version = $"{major}.{minor}.{hex >> 8 & 0xff}";
        if (major != 3 || minor != 11)
        {
            return new RuntimeReading(RuntimeKind.CPython, null, $"cpython {version}: only 3.11's pymalloc layout is known to memwatch");
        }

        if (!Resolve(module, "arenas", out TargetSymbolAddress arenasSymbol) || !Resolve(module, "maxarenas", out TargetSymbolAddress maxSymbol))
        {
            return new RuntimeReading(RuntimeKind.CPython, null,
                $"cpython {version}: pymalloc's arena table is a file-local symbol: install the interpreter's debug symbols (Debian: python{major}.{minor}-dbg)");
        }

        // The interpreter runs during the walk: a pool taken or emptied meanwhile changes the table (a count, a free
        // list, an arena given back), and a walk over a changing table counts the blocks of some other moment against
        // these arenas (a churning interpreter read mid-free shows arenas full of free space that nothing pins). The
        // table is read again after the walk; a reading is kept only when no pool changed state during it.
        (long Arenas, long PoolsInUse, long PoolsFree, ulong BlockBytes, bool Walked) walk = default;
        for (int attempt = 1; attempt <= Attempts; attempt++)
        {
            if (ReadTable(memory, arenasSymbol.Address, maxSymbol.Address, version, out byte[] table) is { } refused)
            {
                return refused;
            }

            walk = Walk(memory, table);
            if (ReadTable(memory, arenasSymbol.Address, maxSymbol.Address, version, out byte[] after) is { } refusedAfter)
            {
                return refusedAfter;
            }

            if (!walk.Walked || table.AsSpan().SequenceEqual(after))
            {
                return Figures(version, walk, walk.Walked, walk.Walked ? null : $"cpython {version}: more than {MaxPoolReads} pools; blocks in use not counted");
            }
        }

        return Figures(version, walk, usedKnown: false,
            $"cpython {version}: pymalloc's pools changed during each of {Attempts} readings (the interpreter was allocating or freeing): blocks in use not counted");
    }

    private static RuntimeReading Figures(string version, (long Arenas, long PoolsInUse, long PoolsFree, ulong BlockBytes, bool Walked) walk, bool usedKnown, string? problem) =>
        new(RuntimeKind.CPython, new RuntimeHeapFigures
        {
            Runtime = RuntimeKind.CPython,
            Source = "pymalloc arenas (/proc/PID/mem)",
            Version = version,
            UsedBytes = usedKnown ? walk.BlockBytes : null,
            CommittedBytes = (ulong)walk.Arenas * ArenaSize,
            Arenas = walk.Arenas,
            PoolsInUse = usedKnown ? walk.PoolsInUse : null,
            PoolsFree = walk.PoolsFree,
            PoolsInUseBytes = usedKnown ? (ulong)walk.PoolsInUse * PoolSize : null,
        }, problem);

    /// <summary>The arena table (<c>arenas</c>, <c>maxarenas</c> entries of struct arena_object); null, or the refusal.</summary>
    private static RuntimeReading? ReadTable(IProcessMemory memory, ulong arenasAddress, ulong maxAddress, string version, out byte[] table)
    {
        table = [];
        if (ReadU64(memory, arenasAddress) is not { } arenas || ReadU32(memory, maxAddress) is not { } maxArenas)
        {
            return new RuntimeReading(RuntimeKind.CPython, null, $"cpython {version}: pymalloc's arena table could not be read");
        }

        if (maxArenas > MaxArenas)
        {
            return new RuntimeReading(RuntimeKind.CPython, null, $"cpython {version}: pymalloc's arena table claims {maxArenas} entries, more than the {MaxArenas} memwatch reads");
        }

        table = new byte[maxArenas * ArenaObjectSize];
        if (maxArenas > 0 && !memory.TryRead(arenas, table))
        {
            return new RuntimeReading(RuntimeKind.CPython, null, $"cpython {version}: pymalloc's arena table could not be read");
        }

        return null;
    }

    /// <summary>
    /// The header of every pool carved from a live arena of <paramref name="table"/>, a thousand headers per system call
    /// (<see cref="PoolWalk"/>).
    /// </summary>
    private static (long Arenas, long PoolsInUse, long PoolsFree, ulong BlockBytes, bool Walked) Walk(IProcessMemory memory, byte[] table)
    {
        using var walk = new PoolWalk(memory);
        long arenaCount = 0, poolsFree = 0;
        for (int i = 0; i < table.Length / ArenaObjectSize; i++)
        {
            ReadOnlySpan<byte> a = table.AsSpan(i * ArenaObjectSize, ArenaObjectSize);
            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(a);
            if (address == 0)
            {
                continue;
            }

            arenaCount++;
            ulong poolAddress = BinaryPrimitives.ReadUInt64LittleEndian(a[8..]);
            ulong first = (address + PoolSize - 1) & ~(PoolSize - 1);
            ulong carvedEnd = Math.Min(poolAddress, address + ArenaSize);
            uint nfree = BinaryPrimitives.ReadUInt32LittleEndian(a[16..]);
            uint ntotal = BinaryPrimitives.ReadUInt32LittleEndian(a[20..]);
            if (ntotal > ArenaSize / PoolSize || nfree > ntotal || carvedEnd < first)
            {
                continue;
            }

            poolsFree += nfree;
            for (ulong pool = first; walk.Walked && pool + PoolSize <= carvedEnd; pool += PoolSize)
            {
                walk.Add(pool);
            }
        }

        walk.Flush();
        return (arenaCount, walk.PoolsInUse, poolsFree, walk.BlockBytes, walk.Walked);
    }

    /// <summary>The module defining the interpreter: libpython3.x, else the executable when it exports Py_Version.</summary>
    private static TargetModule? Interpreter(TargetSymbols symbols)
    {
        if (symbols.FindModule("libpython3") is { } lib)
        {
            return lib;
        }

        foreach (TargetModule m in symbols.Modules)
        {
            if (m.Elf.TryFindDynamicSymbol("Py_Version", out _) || m.Elf.TryFindDynamicSymbol("_PyRuntime", out _))
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>A file-local symbol, under its own name or the one link-time optimisation gives it.</summary>
    private static bool Resolve(TargetModule module, string name, out TargetSymbolAddress address) =>
        TargetSymbols.TryResolve(module, name, out address) || TargetSymbols.TryResolve(module, name + ".lto_priv.0", out address);

    private static ulong? ReadU64(IProcessMemory memory, ulong address)
    {
        Span<byte> b = stackalloc byte[8];
        return memory.TryRead(address, b) ? BinaryPrimitives.ReadUInt64LittleEndian(b) : null;
    }

    private static uint? ReadU32(IProcessMemory memory, ulong address)
    {
        Span<byte> b = stackalloc byte[4];
        return memory.TryRead(address, b) ? BinaryPrimitives.ReadUInt32LittleEndian(b) : null;
    }
}

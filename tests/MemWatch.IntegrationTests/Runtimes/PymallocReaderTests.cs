using System.Buffers.Binary;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Runtimes.CPython;
using MemWatch.Probes.Symbols;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// pymalloc's arenas read through /proc/PID/mem from a real Debian python3 (symbols from python3.11-dbg), against the
/// interpreter's own sys._debugmallocstats(); and a table size from the target beyond memwatch's bound is refused.
/// </summary>
public sealed class PymallocReaderTests
{
    private const string Script = "import sys, time\nx = [(i,) for i in range(1000000)]\nsys._debugmallocstats()\nprint('ready', flush=True)\ntime.sleep(600)\n";

    [Fact]
    public void Read_RealInterpreter_CountsTheArenasItReportsItself()
    {
        using RuntimeProgram p = RuntimeProgram.Start("/usr/bin/python3", ["-c", Script]);
        p.WaitReady(TimeSpan.FromSeconds(120));
        long own = p.StderrValue("# arenas allocated current");

        RuntimeReading r = Read(p.Pid, m => m);

        Assert.True(r.Figures is not null, r.Problem);
        Assert.Equal(own, r.Figures!.Arenas);
        Assert.True(r.Figures.UsedBytes > 40UL << 20, $"blocks in use {r.Figures.UsedBytes}");
    }

    [Fact]
    public void Read_InterpreterBuildingAndDroppingObjects_EveryKeptReadingIsOneMoment()
    {
        using RuntimeProgram p = RuntimeProgram.Start("/usr/bin/python3", [Path.Combine(RuntimeCorpus.Workloads, "cpython_workload.py"), "churn"]);
        p.WaitReady(TimeSpan.FromSeconds(120));

        // pymalloc counts every pool of an arena, carved or not, as in use or free: a walk that raced with the
        // interpreter taking and emptying pools breaks that sum (arenas that look full of free space nothing pins).
        int kept = 0;
        for (int i = 0; i < 40; i++)
        {
            RuntimeReading r = Read(p.Pid, m => m);
            Assert.True(r.Figures is not null, r.Problem);
            RuntimeHeapFigures f = r.Figures!;
            if (f.UsedBytes is null)
            {
                Assert.Contains("changed during each of", r.Problem);
                continue;
            }

            kept++;
            long pools = f.PoolsInUse!.Value + f.PoolsFree!.Value;
            long perArena = (long)(PymallocReader.ArenaSize / PymallocReader.PoolSize);
            Assert.True(pools >= f.Arenas!.Value * (perArena - 1) && pools <= f.Arenas.Value * perArena,
                $"reading {i}: {f.PoolsInUse} pools in use and {f.PoolsFree} free in {f.Arenas} arenas");
        }

        Assert.True(kept > 0, "no reading of the churning interpreter was kept");
    }

    [Fact]
    public void Read_ArenaTableLargerThanTheBound_IsRefused()
    {
        using RuntimeProgram p = RuntimeProgram.Start("/usr/bin/python3", ["-c", Script]);
        p.WaitReady(TimeSpan.FromSeconds(120));

        // The target claims 2^32-1 arena objects (a corrupt or hostile interpreter): nothing is allocated for them.
        RuntimeReading r = Read(p.Pid, m => new Lying(m, "maxarenas"));

        Assert.Null(r.Figures);
        Assert.Contains("more than", r.Problem);
    }

    [Fact]
    public void Read_HeadersReadInBatches_MatchOneReadPerPool()
    {
        using RuntimeProgram p = RuntimeProgram.Start("/usr/bin/python3", ["-c", Script]);
        p.WaitReady(TimeSpan.FromSeconds(120));

        // The interpreter sleeps: both walks see the same pools, one through process_vm_readv batches, one pread each.
        RuntimeHeapFigures batched = Read(p.Pid, m => m).Figures!;
        RuntimeHeapFigures single = Read(p.Pid, m => new OneAtATime(m)).Figures!;

        Assert.True(batched.PoolsInUse > 1000, $"pools in use {batched.PoolsInUse}");
        Assert.Equal((single.Arenas, single.PoolsInUse, single.PoolsFree, single.UsedBytes), (batched.Arenas, batched.PoolsInUse, batched.PoolsFree, batched.UsedBytes));
    }

    private static RuntimeReading Read(int pid, Func<IProcessMemory, IProcessMemory> wrap)
    {
        var fs = ProcFileSystem.Default;
        Assert.True(TargetSymbols.TryLoad(fs, pid, new FileBuffer(), out TargetSymbols? symbols));
        Assert.Equal(RuntimeKind.CPython, RuntimeProbe.Detect(symbols));
        Assert.True(ProcMem.TryOpen(fs, pid, out ProcMem? memory));
        using (memory)
        {
            Lying.Symbols = symbols;
            return PymallocReader.Read(symbols, wrap(memory));
        }
    }

    /// <summary>The target's memory without batches: every range through its own pread.</summary>
    private sealed class OneAtATime(IProcessMemory inner) : IProcessMemory
    {
        public bool TryRead(ulong address, Span<byte> destination) => inner.TryRead(address, destination);
    }

    /// <summary>Answers 0xffffffff for reads at one symbol of the interpreter, the real memory elsewhere.</summary>
    private sealed class Lying(IProcessMemory inner, string symbol) : IProcessMemory
    {
        public static TargetSymbols? Symbols { get; set; }

        public bool TryRead(ulong address, Span<byte> destination)
        {
            TargetModule module = Symbols!.Modules.First(m => m.Elf.TryFindDynamicSymbol("Py_Version", out _));
            if ((TargetSymbols.TryResolve(module, symbol, out TargetSymbolAddress a) || TargetSymbols.TryResolve(module, symbol + ".lto_priv.0", out a))
                && a.Address == address && destination.Length == 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination, uint.MaxValue);
                return true;
            }

            return inner.TryRead(address, destination);
        }
    }
}

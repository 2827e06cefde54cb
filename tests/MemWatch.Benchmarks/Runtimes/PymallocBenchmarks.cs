using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Runtimes.CPython;
using MemWatch.Probes.Symbols;

namespace MemWatch.Benchmarks.Runtimes;

/// <summary>
/// One pymalloc reading of an idle Debian python3 holding 100,000 small objects (the daemon benchmark's CPython target;
/// needs python3.11-dbg): pool headers a thousand per process_vm_readv against one pread each.
/// </summary>
[MemoryDiagnoser]
public class PymallocBenchmarks
{
    private Process? _python;
    private TargetSymbols? _symbols;

    [GlobalSetup]
    public void Setup()
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", ["-c", "import time\na = [{} for _ in range(100000)]\nprint('ready', flush=True)\ntime.sleep(3600)\n"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        _python = Process.Start(psi)!;
        if (_python.StandardOutput.ReadLine() != "ready" || !TargetSymbols.TryLoad(ProcFileSystem.Default, _python.Id, new FileBuffer(), out _symbols))
        {
            throw new InvalidOperationException("python3 did not start or its symbols could not be read");
        }

        if (Read(batched: true).Figures?.PoolsInUse is not > 0)
        {
            throw new InvalidOperationException("no pymalloc pools read: is python3.11-dbg installed?");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _python?.Kill();
        _python?.WaitForExit();
        _python?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public RuntimeReading OnePreadPerPool() => Read(batched: false);

    [Benchmark]
    public RuntimeReading HeadersInBatches() => Read(batched: true);

    private RuntimeReading Read(bool batched)
    {
        if (!ProcMem.TryOpen(ProcFileSystem.Default, _python!.Id, out ProcMem? memory))
        {
            throw new InvalidOperationException("/proc/PID/mem could not be opened");
        }

        using (memory)
        {
            return PymallocReader.Read(_symbols!, batched ? memory : new OneAtATime(memory));
        }
    }

    /// <summary>The target's memory without batches: every range through its own pread.</summary>
    private sealed class OneAtATime(IProcessMemory inner) : IProcessMemory
    {
        public bool TryRead(ulong address, Span<byte> destination) => inner.TryRead(address, destination);
    }
}

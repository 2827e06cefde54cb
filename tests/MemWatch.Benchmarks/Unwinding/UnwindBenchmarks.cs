using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using MemWatch.Probes;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Benchmarks.Unwinding;

/// <summary>
/// The CFI unwinder on the "deep" thread of tests/workloads/unwind_target.c (gcc -O2; 21 frames: clock_nanosleep,
/// nanosleep, 15 recursive frames, the thread function, start_thread, clone3): (a) from a copy of its stack, as a perf
/// sample would give it; (b) from the live process through process_vm_readv (its page cache reset each time, as for a
/// new stop); (c) a cold parse of libc's table (open, fstat, ELF headers, .eh_frame and .eh_frame_hdr read) and one lookup.
/// Caches are warm in (a) and (b): the address space is built once in the setup. (d) The safe-point rule's check of that
/// thread, as the remote-call engine makes it for each candidate thread it stops (stack bounds from its struct pthread,
/// the whole unwind, critical regions, lock words; page cache reset); (e) the rule's per-session setup with warm caches
/// (symbols given, CFI tables cached by file identity): critical regions and lock words built from the symbols.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(256)]
public class UnwindBenchmarks
{
    private readonly StackUnwinder _unwinder = new();
    private readonly UnwindFrame[] _frames = new UnwindFrame[StackUnwinder.DefaultMaxFrames];
    private Process? _process;
    private int _pid;
    private UnwindAddressSpace? _space;
    private UnwindRegisters _regs;
    private StackCopyMemory? _copy;
    private LiveProcessMemory? _live;
    private string _libcPath = "";
    private string? _libcBuildId;
    private TargetSymbols? _symbols;
    private SafePointRule? _rule;
    private TargetMaps? _maps;
    private UserRegs _userRegs;
    private int _tid;

    [GlobalSetup]
    public void Setup()
    {
        string dir = Path.Combine(Path.GetTempPath(), "memwatch-bench");
        Directory.CreateDirectory(dir);
        string source = Path.Combine(dir, "unwind_target.c");
        string exe = Path.Combine(dir, "unwind_target");
        using (Stream resource = typeof(UnwindBenchmarks).Assembly.GetManifestResourceStream("unwind_target.c")!)
        using (FileStream file = File.Create(source))
        {
            resource.CopyTo(file);
        }

        using (Process cc = Process.Start("gcc", $"-O2 -pthread -o \"{exe}\" \"{source}\"")!)
        {
            cc.WaitForExit();
            if (cc.ExitCode != 0)
            {
                throw new InvalidOperationException("gcc failed to build unwind_target.c");
            }
        }

        // Under a shell, so that the workload is not this process's child: .NET reaps its children's state changes,
        // ptrace stops included.
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"exec 3<&0; \"{exe}\" <&3 3<&- & echo \"PID $!\"; wait $!");
        _process = Process.Start(psi)!;
        string ready = "";
        while (!ready.StartsWith("READY", StringComparison.Ordinal))
        {
            string line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("unwind_target did not start");
            if (line.StartsWith("PID ", StringComparison.Ordinal))
            {
                _pid = int.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                ready = line;
            }
        }

        string deep = ready.Split(' ').First(w => w.StartsWith("deep=", StringComparison.Ordinal))[5..];
        int tid = int.Parse(deep, System.Globalization.CultureInfo.InvariantCulture);
        int pid = _pid;

        Assert(TargetSymbols.TryLoad(ProcFileSystem.Default, pid, new FileBuffer(), out TargetSymbols? symbols), "symbols");
        _live = new LiveProcessMemory(pid);
        _space = UnwindAddressSpace.Load(ProcFileSystem.Default, symbols!, _live);
        TargetModule libc = symbols!.FindModule("libc.so.6")!;
        _libcPath = ProcFileSystem.Default.ProcessPath(pid, "root") + libc.Path;
        _libcBuildId = libc.Elf.BuildId;

        Assert(Libc.Ptrace(Libc.PTRACE_SEIZE, tid, 0, 0) == 0, "PTRACE_SEIZE");
        Libc.Ptrace(Libc.PTRACE_INTERRUPT, tid, 0, 0);
        PtraceWait.Next(tid, Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency));
        Assert(Libc.PtraceGetRegs(tid, out UserRegs regs) == 0, "PTRACE_GETREGS");
        Libc.Ptrace(Libc.PTRACE_DETACH, tid, 0, 0);
        _regs = UnwindRegisters.FromUserRegs(regs);
        _userRegs = regs;
        _tid = tid;
        _symbols = symbols;
        _rule = SafePointRule.Create(ProcFileSystem.Default, symbols, _live);
        Assert(TargetMaps.TryRead(ProcFileSystem.Default, pid, new FileBuffer(), out _maps), "maps");
        Assert(_rule.Check(tid, regs, _maps!, _live, 16 * 1024, 2).IsSafe, "the deep thread is a safe point");
        byte[] stack = new byte[16 * 1024];
        Assert(_live.TryRead(regs.Rsp, stack), "stack copy");
        _copy = new StackCopyMemory(regs.Rsp, stack);
        Assert(_unwinder.Unwind(_space, _regs, _copy, _frames, out int count, out _) == UnwindEndReason.Outermost && count >= 20, $"unwind of deep ({count} frames)");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Killed, not asked to exit: its "listlock" thread holds list_all_lock forever, which exit's stdio flush needs.
        if (_pid > 0)
        {
            using Process workload = Process.GetProcessById(_pid);
            workload.Kill();
        }

        _process?.WaitForExit();
        _process?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int UnwindStackCopy()
    {
        _unwinder.Unwind(_space!, _regs, _copy!, _frames, out int count, out _);
        return count;
    }

    [Benchmark]
    public int UnwindLive()
    {
        _live!.Reset();
        _unwinder.Unwind(_space!, _regs, _live, _frames, out int count, out _);
        return count;
    }

    [Benchmark]
    public bool SafePointCheck()
    {
        _live!.Reset();
        return _rule!.Check(_tid, _userRegs, _maps!, _live, 16 * 1024, 2).IsSafe;
    }

    [Benchmark]
    public int SafePointRuleSetup() => SafePointRule.Create(ProcFileSystem.Default, _symbols!, _live!).Regions.Regions.Count;

    [Benchmark]
    public bool ColdParseLibc()
    {
        CfiTableCache.Clear();
        CfiTable table = CfiTableCache.GetOrLoad(_libcPath, _libcBuildId, null, null, out _)!;
        return table.TryFindFde(0x26000, out _, out _);
    }

    private static void Assert(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"UnwindBenchmarks setup: {what} failed");
        }
    }
}

using System.Globalization;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;

namespace MemWatch.IntegrationTests.Unwinding;

/// <summary>tests/workloads/unwind_target.c: thread ids and pthread_getattr_np stacks from its READY line.</summary>
internal sealed class UnwindTarget : IDisposable
{
    public const string Source = "unwind_target.c";

    public const string CxxSource = "unwind_target_cxx.cc";

    /// <summary>Threads of the default mode that gdb unwinds to their outermost frame ("coro" ends in makecontext's trampoline).</summary>
    public static readonly string[] ParkedThreads = ["main", "deep", "sleeper", "condvar", "epoll", "reader", "setstack", "signal", "dliter", "listlock", "stats"];

    /// <summary>Threads of the default mode parked outside any critical region.</summary>
    public static readonly string[] OrdinaryThreads = ["main", "deep", "sleeper", "condvar", "epoll", "reader", "setstack", "signal"];

    private readonly Dictionary<string, string> _ready = [];

    private UnwindTarget(Workload workload)
    {
        Workload = workload;
        foreach (string word in workload.ReadyLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = word.IndexOf('=');
            if (eq > 0)
            {
                _ready[word[..eq]] = word[(eq + 1)..];
            }
        }
    }

    public Workload Workload { get; }

    public int Pid => Workload.Pid;

    public static UnwindTarget Start(string flags, string arguments = "") => new(Workload.Start(Source, arguments, extraFlags: flags));

    public static UnwindTarget Start(string source, string flags, string arguments) => new(Workload.Start(source, arguments, extraFlags: flags));

    public int Tid(string name) => int.Parse(_ready[name], CultureInfo.InvariantCulture);

    public ulong Value(string name) => _ready[name].StartsWith("0x", StringComparison.Ordinal)
        ? ulong.Parse(_ready[name].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
        : ulong.Parse(_ready[name], CultureInfo.InvariantCulture);

    /// <summary>Waits until thread <paramref name="name"/> is blocked in system call <paramref name="syscall"/> (/proc/PID/task/TID/syscall).</summary>
    public void WaitInSyscall(string name, int syscall)
    {
        string path = $"/proc/{Pid}/task/{Tid(name)}/syscall";
        for (int i = 0; i < 1000; i++)
        {
            string first = File.ReadAllText(path).Split(' ')[0].Trim();
            if (first == syscall.ToString(CultureInfo.InvariantCulture))
            {
                return;
            }

            Thread.Sleep(10);
        }

        throw new InvalidOperationException($"thread {name} never blocked in system call {syscall}");
    }

    public TargetSymbols Symbols()
    {
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, Pid, new FileBuffer(), out TargetSymbols? symbols));
        return symbols;
    }

    public UnwindAddressSpace AddressSpace(TargetSymbols symbols)
    {
        UnwindAddressSpace space = UnwindAddressSpace.Load(ProcFileSystem.Default, symbols, new LiveProcessMemory(Pid));
        Assert.Empty(space.Problems);
        return space;
    }

    public void Dispose() => Workload.Dispose();
}

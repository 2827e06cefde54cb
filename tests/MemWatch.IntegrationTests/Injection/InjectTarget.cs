using System.Diagnostics;
using System.Globalization;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>tests/workloads/inject_target.c: addresses and thread ids from its READY line, counters from "stats".</summary>
internal sealed class InjectTarget : IDisposable
{
    public const string Source = "inject_target.c";

    private readonly Dictionary<string, string> _ready;

    private InjectTarget(Workload workload)
    {
        Workload = workload;
        _ready = ParsePairs(workload.ReadyLine);
    }

    public Workload Workload { get; }

    public int Pid => Workload.Pid;

    public static InjectTarget Start() => new(Workload.Start(Source));

    public ulong Address(string name) => ulong.Parse(_ready[name].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    public int ThreadId(string name) => int.Parse(_ready[name], CultureInfo.InvariantCulture);

    public Dictionary<string, long> Stats()
    {
        Dictionary<string, string> pairs = ParsePairs(Workload.Send("stats"));
        return pairs.ToDictionary(p => p.Key, p => long.Parse(p.Value, CultureInfo.InvariantCulture));
    }

    /// <summary>Polls "stats" until <paramref name="condition"/> holds or <paramref name="timeout"/> passes; returns the last stats.</summary>
    public Dictionary<string, long> WaitForStats(Func<Dictionary<string, long>, bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            Dictionary<string, long> s = Stats();
            if (condition(s) || sw.Elapsed > timeout)
            {
                return s;
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>The [start, end) of a function of the target, from nm -S on its executable.</summary>
    public (ulong Start, ulong End) FunctionRange(string name)
    {
        string exe = Workload.Build(Source);
        var psi = new ProcessStartInfo("nm", $"-S --defined-only \"{exe}\"") { RedirectStandardOutput = true };
        using Process nm = Process.Start(psi)!;
        string output = nm.StandardOutput.ReadToEnd();
        nm.WaitForExit();
        foreach (string line in output.Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 4 && f[3] == name)
            {
                ulong size = ulong.Parse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                ulong start = Address(name);
                return (start, start + size);
            }
        }

        throw new InvalidOperationException($"nm found no symbol {name} in {exe}");
    }

    /// <summary>The syscall number a thread is blocked in (first field of /proc/PID/task/TID/syscall), or -1 when running.</summary>
    public long CurrentSyscall(int tid)
    {
        string text = File.ReadAllText($"/proc/{Pid}/task/{tid}/syscall").Trim();
        string first = text.Split(' ')[0];
        return first == "running" ? -1 : long.Parse(first, CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, string> ParsePairs(string line)
    {
        var d = new Dictionary<string, string>();
        foreach (string word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                d[word[..eq]] = word[(eq + 1)..];
            }
        }

        return d;
    }

    public void Dispose() => Workload.Dispose();
}

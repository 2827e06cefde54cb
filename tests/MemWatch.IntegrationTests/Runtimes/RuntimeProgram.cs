using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// A real program of the runtime corpus (python3, node, java, a Go binary, a cache client, psql), started as users run
/// it. It prints <c>ready</c> once in its behaviour, then <c>figure NAME VALUE</c> lines: the program's own account of
/// what it holds, which is the scenario's ground truth. Dispose kills the whole process group.
/// </summary>
internal sealed class RuntimeProgram : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<(long Ticks, string Name, double Value)> _figures = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _errors = new();

    private RuntimeProgram(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    /// <summary>The "ready" line (psql's driver appends the backend's PID to it).</summary>
    public string ReadyLine => _ready.Task.Result;

    public static RuntimeProgram Start(string command, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach ((string k, string v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var p = new RuntimeProgram(Process.Start(psi)!);
        p._process.OutputDataReceived += (_, e) => p.OnLine(e.Data);
        p._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                p._errors.Enqueue(e.Data);
            }
        };
        p._process.BeginOutputReadLine();
        p._process.BeginErrorReadLine();
        return p;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _ready.TrySetException(new InvalidOperationException("the program ended before it was ready: " + string.Join(" / ", _errors)));
            return;
        }

        if (line.StartsWith("ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult(line);
        }
        else if (line.StartsWith("figure ", StringComparison.Ordinal))
        {
            string[] f = line.Split(' ');
            if (f.Length == 3 && double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            {
                _figures.Enqueue((Environment.TickCount64, f[1], v));
            }
        }
    }

    /// <summary>Waits for "ready"; throws with the program's stderr when it ended first or took longer than <paramref name="timeout"/>.</summary>
    public void WaitReady(TimeSpan timeout)
    {
        if (!_ready.Task.Wait(timeout))
        {
            throw new TimeoutException("the program was not ready in time: " + string.Join(" / ", _errors));
        }
    }

    /// <summary>The first and last value of one figure reported at or after <paramref name="sinceTicks"/>.</summary>
    public (double First, double Last, int Count) Figure(string name, long sinceTicks)
    {
        var values = _figures.Where(f => f.Name == name && f.Ticks >= sinceTicks).Select(f => f.Value).ToList();
        return values.Count == 0 ? (double.NaN, double.NaN, 0) : (values[0], values[^1], values.Count);
    }

    /// <summary>The number after '=' on the first stderr line starting with <paramref name="prefix"/> (waits up to 10 s for it).</summary>
    public long StderrValue(string prefix)
    {
        long end = Environment.TickCount64 + 10_000;
        while (true)
        {
            foreach (string line in _errors)
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    string value = line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Replace(",", "", StringComparison.Ordinal).Trim();
                    return long.Parse(value, CultureInfo.InvariantCulture);
                }
            }

            if (Environment.TickCount64 > end)
            {
                throw new TimeoutException($"no stderr line starting with {prefix}");
            }

            Thread.Sleep(100);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}

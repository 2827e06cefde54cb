using System.Diagnostics;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// The adversarial suite's common drill on one target: remote calls (statistics readings and trims in turn) made from
/// this process, then an injector process (tests/MemWatch.InjectorHost) that makes the same calls and is SIGKILLed at
/// random moments. Counts what happened; <see cref="ThreadsHeld"/> tells whether any thread is left stopped or traced.
/// </summary>
internal sealed class AdversarialRun
{
    public int Completed { get; private set; }

    public int Refused { get; private set; }

    public int Gone { get; private set; }

    /// <summary>Calls that outlived their timeout and were rolled back (the thread restored, nothing left running).</summary>
    public int RolledBack { get; private set; }

    public int Kills { get; private set; }

    public List<string> Failures { get; } = [];

    public Dictionary<string, int> RefusalReasons { get; } = [];

    /// <summary>
    /// <paramref name="calls"/> connections, each making one statistics reading (even) or trim (odd), pinned to
    /// <paramref name="threads"/> in turn (0: the engine picks).
    /// </summary>
    public void Calls(int pid, IReadOnlyList<int> threads, int calls, TimeSpan timeout)
    {
        for (int n = 0; n < calls; n++)
        {
            int pinned = threads[n % threads.Count];
            try
            {
                using AllocatorConnection connection = AllocatorConnection.Open(pid, pinned == 0 ? null : new RemoteCallOptions { ThreadId = pinned });
                if (!connection.Introspector.IsSupported)
                {
                    Failures.Add($"call {n}: allocator not supported: {connection.Introspector.NotSupportedReason}");
                    continue;
                }

                if (n % 2 == 0)
                {
                    connection.ReadStatistics(timeout);
                }
                else
                {
                    connection.Release(timeout);
                }

                Completed++;
            }
            catch (RemoteCallException e) when (e.Reason is RemoteCallFailure.NotSafe or RemoteCallFailure.Busy or RemoteCallFailure.Unsupported)
            {
                Refused++;
                string key = e.Reason.ToName();
                RefusalReasons[key] = RefusalReasons.GetValueOrDefault(key) + 1;
            }
            catch (RemoteCallException e) when (e.Reason == RemoteCallFailure.ProcessExited)
            {
                Gone++;
            }
            catch (RemoteCallException e) when (e.Reason == RemoteCallFailure.Timeout && !e.LeftInCallee)
            {
                RolledBack++;
            }
            catch (RemoteCallException e)
            {
                Failures.Add($"call {n} on thread {pinned}: {e.Reason.ToName()}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Starts the injector <paramref name="kills"/> times and SIGKILLs it after its first finished call plus a random
    /// 0-20 ms, so that most kills land inside a later call; waits each time until no thread of the target is traced.
    /// </summary>
    public void KillInjector(int pid, IReadOnlyList<int> threads, int kills, int seed)
    {
        var random = new Random(seed);
        string host = Path.Combine(AppContext.BaseDirectory, "MemWatch.InjectorHost.dll");
        for (int k = 0; k < kills; k++)
        {
            var psi = new ProcessStartInfo("dotnet", $"\"{host}\" allocator {pid} {string.Join(',', threads)}")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using Process injector = Process.Start(psi)!;
            try
            {
                string? first = injector.StandardOutput.ReadLine();
                if (first is null)
                {
                    Failures.Add($"kill {k}: the injector ended before its first call");
                    break;
                }

                Thread.Sleep(random.Next(0, 21));
            }
            finally
            {
                injector.Kill();
                injector.WaitForExit(10_000);
            }

            Kills++;
            var sw = Stopwatch.StartNew();
            while (ThreadsHeld(pid) is string held)
            {
                if (sw.Elapsed > TimeSpan.FromSeconds(10))
                {
                    Failures.Add($"kill {k}: {held} 10 s after the injector died");
                    return;
                }

                Thread.Sleep(10);
            }
        }
    }

    /// <summary>Null when every thread of <paramref name="pid"/> is untraced and not stopped; otherwise which is not.</summary>
    public static string? ThreadsHeld(int pid)
    {
        foreach (string dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                string status = File.ReadAllText(Path.Combine(dir, "status"));
                string tracer = Field(status, "TracerPid:");
                string state = Field(status, "State:");
                if (tracer != "0" || state.StartsWith('t') || state.StartsWith('T'))
                {
                    return $"thread {Path.GetFileName(dir)} is {state} with tracer {tracer}";
                }
            }
            catch (IOException)
            {
                // The thread exited.
            }
        }

        return null;
    }

    public override string ToString() =>
        $"completed {Completed}, refused {Refused} ({string.Join(", ", RefusalReasons.Select(r => $"{r.Key} {r.Value}"))}), rolled back {RolledBack}, gone {Gone}, injector kills {Kills}, failures {Failures.Count}{string.Concat(Failures.Select(f => "; " + f))}";

    private static string Field(string status, string key)
    {
        foreach (string line in status.Split('\n'))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return line[key.Length..].Trim();
            }
        }

        return "";
    }
}

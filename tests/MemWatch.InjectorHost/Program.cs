using System.Globalization;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;

// A separate injector process for the kill tests: the tests SIGKILL it in the middle of a call.
// Usage: MemWatch.InjectorHost PID TID FUNCTION_HEX ARG TIMEOUT_MS [REPEAT]
// With REPEAT the call is made REPEAT times and the pause/callee percentiles are printed (a manual measurement).
// ARG "scratch:N" passes the address of an N-byte scratch block instead of an integer (e.g. mallinfo2's result struct).
// Usage: MemWatch.InjectorHost allocator PID TID[,TID...]: statistics readings and trims in turn, one connection each,
// pinned to the listed threads in turn (0: the engine picks), until killed; prints "CALL n outcome" after each.
if (args.Length == 3 && args[0] == "allocator")
{
    int target = int.Parse(args[1], CultureInfo.InvariantCulture);
    int[] tids = [.. args[2].Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
    for (int n = 0; ; n++)
    {
        int pinned = tids[n % tids.Length];
        string outcome;
        try
        {
            using AllocatorConnection connection = AllocatorConnection.Open(target, pinned == 0 ? null : new RemoteCallOptions { ThreadId = pinned });
            outcome = n % 2 == 0 ? connection.ReadStatistics(TimeSpan.FromSeconds(5)).Allocator : connection.Release(TimeSpan.FromSeconds(5)).Outcome.ToString();
        }
        catch (RemoteCallException e)
        {
            outcome = e.Reason.ToName();
        }

        Console.WriteLine($"CALL {n} {outcome}");
        Console.Out.Flush();
    }
}

// Usage: MemWatch.InjectorHost rate PID N: N statistics readings and trims in turn, the engine picking the thread,
// each retried up to 3 times when refused as not safe or busy; prints the refusals on the first try and after the retries.
if (args.Length == 3 && args[0] == "rate")
{
    int target = int.Parse(args[1], CultureInfo.InvariantCulture);
    int calls = int.Parse(args[2], CultureInfo.InvariantCulture);
    int firstRefused = 0, refused = 0, failed = 0;
    var reasons = new List<string>();
    for (int n = 0; n < calls; n++)
    {
        for (int attempt = 0; attempt < 4; attempt++)
        {
            try
            {
                using AllocatorConnection connection = AllocatorConnection.Open(target);
                _ = n % 2 == 0 ? connection.ReadStatistics(TimeSpan.FromSeconds(5)).Allocator : connection.Release(TimeSpan.FromSeconds(30)).Outcome.ToString();
                break;
            }
            catch (RemoteCallException e) when (e.Reason is RemoteCallFailure.NotSafe or RemoteCallFailure.Busy)
            {
                firstRefused += attempt == 0 ? 1 : 0;
                if (attempt == 3)
                {
                    refused++;
                    reasons.Add(e.Message);
                }
            }
            catch (RemoteCallException e)
            {
                failed++;
                reasons.Add($"{e.Reason.ToName()}: {e.Message}");
                break;
            }
        }
    }

    Console.WriteLine($"calls={calls} refused_first_try={firstRefused} refused_after_3_retries={refused} failed={failed}");
    foreach (string r in reasons.Distinct().Take(5))
    {
        Console.WriteLine($"  {r}");
    }

    return 0;
}

if (args.Length is not (5 or 6))
{
    Console.Error.WriteLine("usage: PID TID FUNCTION_HEX ARG TIMEOUT_MS [REPEAT]");
    return 2;
}

int pid = int.Parse(args[0], CultureInfo.InvariantCulture);
int tid = int.Parse(args[1], CultureInfo.InvariantCulture);
ulong function = ulong.Parse(args[2].Replace("0x", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
bool scratchArg = args[3].StartsWith("scratch:", StringComparison.Ordinal);
byte[] scratch = scratchArg ? new byte[int.Parse(args[3]["scratch:".Length..], CultureInfo.InvariantCulture)] : [];
long arg = scratchArg ? 0 : long.Parse(args[3], CultureInfo.InvariantCulture);
RemoteArg remoteArg = scratchArg ? RemoteArg.Scratch(0) : RemoteArg.Int(arg);
var timeout = TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture));

using IRemoteCallSession session = RemoteProcess.Open(pid, tid == 0 ? null : new RemoteCallOptions { ThreadId = tid });
if (args.Length == 6)
{
    int repeat = int.Parse(args[5], CultureInfo.InvariantCulture);
    var pauses = new List<long>();
    var callees = new List<long>();
    for (int i = 0; i < repeat; i++)
    {
        RemoteCallResult m = session.Call(function, [remoteArg], scratch, timeout);
        pauses.Add(m.PauseMicroseconds);
        callees.Add(m.CalleeMicroseconds);
        Thread.Sleep(2);
    }

    pauses.Sort();
    callees.Sort();
    Console.WriteLine($"calls={repeat} tid={session.Tid} pause_us p50={pauses[repeat / 2]} p90={pauses[repeat * 9 / 10]} p99={pauses[repeat * 99 / 100]} max={pauses[^1]} " +
        $"callee_us p50={callees[repeat / 2]} p90={callees[repeat * 9 / 10]} max={callees[^1]}");
    return 0;
}

Console.WriteLine("CALLING");
Console.Out.Flush();
try
{
    RemoteCallResult r = session.Call(function, [remoteArg], scratch, timeout);
    Console.WriteLine($"RESULT {r.ReturnValue} pause={r.PauseMicroseconds} callee={r.CalleeMicroseconds}");
    return 0;
}
catch (RemoteCallException e)
{
    Console.WriteLine($"FAILED {e.Reason} {e.Message}");
    return 1;
}

using System.Globalization;
using MemWatch.Probes.Injection;

// A separate injector process for the kill test: the test SIGKILLs it in the middle of a call.
// Usage: MemWatch.InjectorHost PID TID FUNCTION_HEX ARG TIMEOUT_MS [REPEAT]
// With REPEAT the call is made REPEAT times and the pause/callee percentiles are printed (a manual measurement).
// ARG "scratch:N" passes the address of an N-byte scratch block instead of an integer (e.g. mallinfo2's result struct).
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

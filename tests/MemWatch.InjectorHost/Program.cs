using System.Globalization;
using MemWatch.Probes.Injection;

// A separate injector process for the kill test: the test SIGKILLs it in the middle of a call.
// Usage: MemWatch.InjectorHost PID TID FUNCTION_HEX ARG TIMEOUT_MS
if (args.Length != 5)
{
    Console.Error.WriteLine("usage: PID TID FUNCTION_HEX ARG TIMEOUT_MS");
    return 2;
}

int pid = int.Parse(args[0], CultureInfo.InvariantCulture);
int tid = int.Parse(args[1], CultureInfo.InvariantCulture);
ulong function = ulong.Parse(args[2].Replace("0x", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
long arg = long.Parse(args[3], CultureInfo.InvariantCulture);
var timeout = TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture));

using IRemoteCallSession session = RemoteProcess.Open(pid, new RemoteCallOptions { ThreadId = tid });
Console.WriteLine("CALLING");
Console.Out.Flush();
try
{
    RemoteCallResult r = session.Call(function, [RemoteArg.Int(arg)], [], timeout);
    Console.WriteLine($"RESULT {r.ReturnValue} pause={r.PauseMicroseconds} callee={r.CalleeMicroseconds}");
    return 0;
}
catch (RemoteCallException e)
{
    Console.WriteLine($"FAILED {e.Reason} {e.Message}");
    return 1;
}

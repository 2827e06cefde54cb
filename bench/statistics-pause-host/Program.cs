using System.Globalization;
using MemWatch.Probes.Injection;

// One remote-call session into PID, driven from stdin so that bench/statistics-pause can interleave two engines' blocks.
// Usage: MemWatch.StatisticsPauseHost PID FUNCTION_HEX SCRATCH_BYTES
// Prints "READY", then for each "block N" line makes N calls of FUNCTION(scratch) 2 ms apart and prints one line per call,
// "CALL pause_us callee_us tid", followed by the phase durations in ns when built with PHASES; then "END". "warmup N"
// makes N calls and prints only "END". "quit" ends it.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: PID FUNCTION_HEX SCRATCH_BYTES");
    return 2;
}

int pid = int.Parse(args[0], CultureInfo.InvariantCulture);
ulong function = ulong.Parse(args[1].Replace("0x", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
byte[] scratch = new byte[int.Parse(args[2], CultureInfo.InvariantCulture)];
var timeout = TimeSpan.FromSeconds(5);

using IRemoteCallSession session = RemoteProcess.Open(pid, null);
Console.WriteLine("READY");
Console.Out.Flush();
while (Console.ReadLine() is string line && line != "quit")
{
    bool warmup = line.StartsWith("warmup ", StringComparison.Ordinal);
    int n = int.Parse(line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);
    for (int i = 0; i < n; i++)
    {
        string outcome;
        try
        {
            RemoteCallResult r = session.Call(function, [RemoteArg.Scratch(0)], scratch, timeout);
            outcome = string.Create(CultureInfo.InvariantCulture, $"CALL {r.PauseMicroseconds} {r.CalleeMicroseconds} {session.Tid}");
#if PHASES
            outcome += " " + string.Join(' ', r.Phases.ToArray());
#endif
        }
        catch (RemoteCallException e)
        {
            outcome = $"REFUSED {e.Reason}: {e.Message}";
        }

        if (!warmup)
        {
            Console.WriteLine(outcome);
        }

        Thread.Sleep(2);
    }

    Console.WriteLine("END");
    Console.Out.Flush();
}

return 0;

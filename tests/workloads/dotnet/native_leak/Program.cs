// Attribution corpus, .NET: SessionCache.Remember leaks 16 KiB native blocks through Marshal.AllocHGlobal at
// LEAK_KIB_S KiB per second (argument, default 2048); RequestParser.Parse churns AllocHGlobal/FreeHGlobal of 4 KiB.
// Prints READY, then answers every stdin line with ERR; exits at EOF.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

long leakKibPerSecond = args.Length > 0 ? long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 2048;
var reader = new Thread(() =>
{
    while (Console.ReadLine() is not null)
    {
        Console.WriteLine("ERR unknown command");
    }

    Environment.Exit(0);
}) { IsBackground = true };

Console.WriteLine($"READY pid={Environment.ProcessId}");
reader.Start();
var clock = Stopwatch.StartNew();
long done = 0;
long total = 0;
for (long n = 0; ; n++)
{
    total += RequestParser.Parse(n);
    long due = (long)(clock.Elapsed.TotalSeconds * leakKibPerSecond * 1024 / SessionCache.BlockBytes);
    while (done < due)
    {
        SessionCache.Remember(done++);
    }

    if (n % 64 == 0)
    {
        Thread.Sleep(1);
    }

    if (total == long.MinValue)
    {
        break;
    }
}

internal static class SessionCache
{
    public const int BlockBytes = 16 * 1024;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static unsafe void Remember(long id)
    {
        nint block = Marshal.AllocHGlobal(BlockBytes);
        byte* p = (byte*)block;
        for (int i = 0; i < BlockBytes; i += 512)
        {
            p[i] = (byte)(id + i);
        }
    }
}

internal static class RequestParser
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static unsafe long Parse(long id)
    {
        nint scratch = Marshal.AllocHGlobal(4096);
        byte* p = (byte*)scratch;
        for (int i = 0; i < 4096; i += 512)
        {
            p[i] = (byte)(id + i);
        }

        long sum = p[0] + p[512];
        Marshal.FreeHGlobal(scratch);
        return sum;
    }
}

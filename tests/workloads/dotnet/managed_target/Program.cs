// A .NET workload for MemWatch's tests. Protocol as the C workloads: print one READY line, then answer each command
// read from stdin with one line (OK ... or ERR ...); EOF makes it exit.
//   leak MIB     allocate MIB MiB of 8 KiB byte arrays and keep them (managed growth a GC cannot reclaim)
//   churn MIB    allocate MIB MiB of 8 KiB byte arrays and drop them (garbage; run with a large DOTNET_GCgen0size)
//   native MIB   Marshal.AllocHGlobal MIB MiB in 1 MiB blocks, written so they are resident, and keep them
//   stats        the runtime's own figures: GC.GetTotalMemory(false), committed, heap size, collections
using System.Globalization;
using System.Runtime.InteropServices;

internal static class Program
{
    private const int ArrayBytes = 8 * 1024;
    private static readonly List<byte[]> s_kept = [];
    private static readonly List<IntPtr> s_native = [];
    private static byte[]? s_sink;

    private static int Main()
    {
        Console.Out.Flush();
        Console.WriteLine(FormattableString.Invariant($"READY pid={Environment.ProcessId}"));
        string? line;
        while ((line = Console.ReadLine()) is not null)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }

            try
            {
                Console.WriteLine(Run(words));
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException or OutOfMemoryException)
            {
                Console.WriteLine("ERR " + e.Message);
            }
        }

        foreach (IntPtr p in s_native)
        {
            Marshal.FreeHGlobal(p);
        }

        return 0;
    }

    private static string Run(string[] words)
    {
        switch (words[0])
        {
            case "leak":
                for (long i = 0, n = MiB(words[1]) / ArrayBytes; i < n; i++)
                {
                    s_kept.Add(Filled(ArrayBytes));
                }

                return "OK " + Stats();
            case "churn":
                for (long i = 0, n = MiB(words[1]) / ArrayBytes; i < n; i++)
                {
                    s_sink = Filled(ArrayBytes);
                }

                return "OK " + Stats();
            case "native":
                for (long i = 0, n = MiB(words[1]) >> 20; i < n; i++)
                {
                    IntPtr p = Marshal.AllocHGlobal(1 << 20);
                    unsafe
                    {
                        new Span<byte>((void*)p, 1 << 20).Fill(0x5a);
                    }

                    s_native.Add(p);
                }

                return "OK " + Stats();
            case "stats":
                return "OK " + Stats();
            default:
                return "ERR unknown command " + words[0];
        }
    }

    private static long MiB(string text) => long.Parse(text, CultureInfo.InvariantCulture) << 20;

    private static byte[] Filled(int size)
    {
        byte[] a = new byte[size];
        a.AsSpan().Fill(1);
        return a;
    }

    private static string Stats()
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo();
        return FormattableString.Invariant(
            $"total={GC.GetTotalMemory(false)} committed={info.TotalCommittedBytes} heap={info.HeapSizeBytes} gen0={GC.CollectionCount(0)} gen2={GC.CollectionCount(2)} kept={s_kept.Count} native={(long)s_native.Count << 20} sink={s_sink?.Length ?? 0}");
    }
}

using System.Globalization;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Runtimes.Jvm;

/// <summary>
/// HotSpot's heap figures from its hsperfdata file, without attaching: <c>sun.gc.generation.N.{capacity,maxCapacity}</c>
/// and <c>sun.gc.generation.N.space.M.{name,used,capacity}</c>, plus metaspace. The file is found in the JVM's own
/// mount namespace (<c>/proc/PID/root/tmp/hsperfdata_USER/NSPID</c>, USER from the process's effective uid in its own
/// /etc/passwd) and read through <see cref="ConfinedFile"/>.
/// </summary>
public static class JvmHeapReader
{
    /// <summary>HotSpot's default PerfDataMemorySize is 64 KiB; larger files are refused.</summary>
    public const int MaxFileBytes = 4 << 20;

    public static RuntimeReading Read(ProcFileSystem fs, int pid, ProcStatus status)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentNullException.ThrowIfNull(status);
        string root = fs.ProcessPath(pid, "root");
        string user = UserName(root, status.EffectiveUid);
        int nspid = status.InnermostNSpid ?? pid;
        string path = $"tmp/hsperfdata_{user}/{nspid.ToString(CultureInfo.InvariantCulture)}";
        byte[]? data = ConfinedFile.TryRead(root, path, MaxFileBytes, out string? problem);
        if (data is null)
        {
            return new RuntimeReading(RuntimeKind.Jvm, null, $"hsperfdata: {problem} (a JVM started with -XX:-UsePerfData publishes none)");
        }

        if (!HsPerfData.TryParse(data, out HsPerfData? perf, out problem))
        {
            return new RuntimeReading(RuntimeKind.Jvm, null, "hsperfdata: " + problem);
        }

        return new RuntimeReading(RuntimeKind.Jvm, FiguresOf(perf!), null);
    }

    /// <summary>The heap figures in <paramref name="perf"/>; null figures when it has no generation counters.</summary>
    public static RuntimeHeapFigures? FiguresOf(HsPerfData perf)
    {
        ArgumentNullException.ThrowIfNull(perf);
        var spaces = new List<RuntimeSpace>();
        ulong used = 0, committed = 0, max = 0, largestMax = 0;
        bool any = false;
        for (int g = 0; g < 4; g++)
        {
            string gen = $"sun.gc.generation.{g}";
            if (perf.Long(gen + ".capacity") is not { } capacity)
            {
                continue;
            }

            any = true;
            committed += Bytes(capacity);
            ulong genMax = Bytes(perf.Long(gen + ".maxCapacity") ?? capacity);
            max += genMax;
            largestMax = Math.Max(largestMax, genMax);
            long spacesCount = Math.Clamp(perf.Long(gen + ".spaces") ?? 0, 0, 16);
            for (int s = 0; s < spacesCount; s++)
            {
                string space = $"{gen}.space.{s}";
                ulong u = Bytes(perf.Long(space + ".used") ?? 0);
                used += u;
                spaces.Add(new RuntimeSpace(perf.String(space + ".name") ?? $"generation {g} space {s}", u, Bytes(perf.Long(space + ".capacity") ?? 0),
                    perf.Long(space + ".maxCapacity") is { } m and > 0 ? Bytes(m) : null));
            }
        }

        if (!any)
        {
            return null;
        }

        // G1 gives each generation the whole heap as its maximum (regions move between them); the other collectors split it.
        if (perf.String("sun.gc.policy.name") == "GarbageFirst")
        {
            max = largestMax;
        }

        if (perf.Long("sun.gc.metaspace.used") is { } mu)
        {
            spaces.Add(new RuntimeSpace("metaspace", Bytes(mu), Bytes(perf.Long("sun.gc.metaspace.capacity") ?? mu),
                perf.Long("sun.gc.metaspace.maxCapacity") is { } mm and > 0 ? Bytes(mm) : null));
        }

        return new RuntimeHeapFigures
        {
            Runtime = RuntimeKind.Jvm,
            Source = "hsperfdata",
            Version = perf.String("java.property.java.vm.version") ?? perf.String("java.vm.version"),
            UsedBytes = used,
            CommittedBytes = committed,
            MaxBytes = max,
            Spaces = spaces,
        };
    }

    private static ulong Bytes(long v) => v > 0 ? (ulong)v : 0;

    /// <summary>The user name of <paramref name="uid"/> in the process's own /etc/passwd (root for 0 when none is readable).</summary>
    private static string UserName(string root, uint uid)
    {
        byte[]? passwd = ConfinedFile.TryRead(root, "etc/passwd", 1 << 20, out _);
        if (passwd is not null)
        {
            foreach (string line in System.Text.Encoding.UTF8.GetString(passwd).Split('\n'))
            {
                string[] f = line.Split(':');
                if (f.Length > 2 && uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint u) && u == uid
                    && f[0].Length > 0 && f[0].IndexOfAny(['/', '\0']) < 0 && f[0] is not "." and not "..")
                {
                    return f[0];
                }
            }
        }

        return uid == 0 ? "root" : uid.ToString(CultureInfo.InvariantCulture);
    }
}

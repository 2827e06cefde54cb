using System.Globalization;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Cgroups;

/// <summary>Paths into Fixtures/cgroup and reference readers that parse fixtures independently (string splitting).</summary>
internal static class CgroupFixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "cgroup");

    public static string Dir(string scenario) => Path.Combine(Root, scenario);

    public static byte[] Bytes(string relative) => File.ReadAllBytes(Path.Combine(Root, relative));

    public static int TargetPid(string scenario)
        => int.Parse(File.ReadAllText(Path.Combine(Dir(scenario), "target-pid")).Trim(), CultureInfo.InvariantCulture);

    public static CgroupResolver Resolver(string scenario)
        => new(new ProcFileSystem(Path.Combine(Dir(scenario), "proc")), Path.Combine(Dir(scenario), "root"));

    /// <summary>The file system path a scenario's fixture tree gives to an absolute host path.</summary>
    public static string Host(string scenario, string absolute) => Path.Combine(Dir(scenario), "root") + absolute;

    /// <summary>Reference parse of a flat-keyed file: <c>awk '{print $1, $2}'</c>.</summary>
    public static Dictionary<string, ulong> Keyed(string path)
    {
        var map = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (string line in File.ReadAllLines(path))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            map[parts[0]] = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
        }

        return map;
    }

    public static ulong Value(string path) => ulong.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
}

namespace MemWatch.Probes.Tests.Allocators;

/// <summary>Reads a captured <c>.mallinfo2</c> line (<c>arena=… keepcost=…</c>) and its sibling malloc_info XML.</summary>
internal static class MallinfoFixture
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Allocators", "malloc_info");

    public static byte[] Xml(string name) => File.ReadAllBytes(Path.Combine(Directory, name + ".xml"));

    public static Dictionary<string, ulong> Mallinfo2(string name)
    {
        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (string pair in File.ReadAllText(Path.Combine(Directory, name + ".mallinfo2")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=');
            values[kv[0]] = ulong.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture);
        }

        return values;
    }
}

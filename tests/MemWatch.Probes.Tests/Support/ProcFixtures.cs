using System.Globalization;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Support;

/// <summary>
/// The captured /proc fixtures (Fixtures/proc, see Fixtures/README.md and ProcFs/Capture/capture-procfs.sh):
/// which pid is which subject, and the values awk/sed extracted from each capture.
/// </summary>
internal static class ProcFixtures
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "proc");

    public static ProcFileSystem Fs { get; } = new(Root);

    private static readonly Dictionary<string, int> s_pids = File.ReadAllLines(Path.Combine(Root, "procfs-fixtures.txt"))
        .Select(l => l.Split(' '))
        .ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));

    /// <summary>Names of every captured process (glibc, zombie, jemalloc, tcmalloc, comm-*, dotnet, kthreadd, kworker-highpri).</summary>
    public static IEnumerable<string> Names => s_pids.Keys;

    /// <summary>xunit member data: one row per captured process.</summary>
    public static TheoryData<string> All
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (string name in Names)
            {
                data.Add(name);
            }

            return data;
        }
    }

    public static int Pid(string name) => s_pids[name];

    public static string PathOf(string name, string file) => Fs.ProcessPath(Pid(name), file);

    public static byte[] Bytes(string name, string file) => File.ReadAllBytes(PathOf(name, file));

    public static string MeminfoPath => Fs.SystemPath("meminfo");

    /// <summary>The awk/sed extraction written at capture time: <c>key=value</c> lines.</summary>
    public static Expected ExpectedFor(string name) => new(Path.Combine(Fs.ProcessDirectory(Pid(name)), "expected.procfs.txt"));

    public static Expected ExpectedMeminfo() => new(Path.Combine(Root, "meminfo.expected.procfs.txt"));

    internal sealed class Expected
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

        public Expected(string path)
        {
            // A line without '=' continues the previous value: a value that held a newline (a comm set to "nl\nx...").
            string? last = null;
            foreach (string line in File.ReadAllLines(path))
            {
                int eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0 && last is not null)
                {
                    _values[last] += "\n" + line;
                    continue;
                }

                last = line[..eq];
                _values[last] = line[(eq + 1)..];
            }
        }

        public bool Has(string key) => _values.ContainsKey(key);

        public string Text(string key) => _values.TryGetValue(key, out string? v) ? v : throw new KeyNotFoundException(key);

        public ulong U64(string key) => ulong.Parse(Text(key), CultureInfo.InvariantCulture);

        public int I32(string key) => int.Parse(Text(key), CultureInfo.InvariantCulture);

        /// <summary>A byte count, or null where the capture found no such line ("none").</summary>
        public ulong? Bytes(string key) => Text(key) == "none" ? null : U64(key);
    }
}

using System.Globalization;
using System.IO.Compression;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Support;

/// <summary>
/// The smaps/maps/smaps_rollup captures under Fixtures/smaps/proc/PID (see Fixtures/README.md), unpacked once into a
/// temporary proc root (gzip-compressed files are decompressed), and their expected values computed by
/// Fixtures/smaps/make-expected.sh with awk and python3.
/// </summary>
internal static class SmapsFixtures
{
    public const int Glibc = 17094;
    public const int Jemalloc = 17107;
    public const int Tcmalloc = 17120;
    public const int ManyMappings = 17133;
    public const int DotNet = 8243;

    public static readonly int[] All = [Glibc, Jemalloc, Tcmalloc, ManyMappings, DotNet];

    private static readonly Lazy<string> s_root = new(Unpack);

    public static string SourceDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "smaps");

    /// <summary>A proc root holding PID/{maps,smaps,smaps_rollup} for every fixture, uncompressed.</summary>
    public static string ProcRoot => s_root.Value;

    public static ProcFileSystem FileSystem => new(ProcRoot);

    public static byte[] Read(int pid, string name) => File.ReadAllBytes(Path.Combine(ProcRoot, pid.ToString(CultureInfo.InvariantCulture), name));

    /// <summary>The awk/python figures for a fixture: key to value.</summary>
    public static IReadOnlyDictionary<string, decimal> Expected(int pid)
    {
        var result = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (string line in File.ReadAllLines(Path.Combine(SourceDirectory, "expected", $"{pid}.txt")))
        {
            string[] parts = line.Split(' ');
            result[parts[0]] = decimal.Parse(parts[1], CultureInfo.InvariantCulture);
        }

        return result;
    }

    private static string Unpack()
    {
        string root = Path.Combine(Path.GetTempPath(), $"memwatch-smaps-fixtures-{Environment.ProcessId}");
        foreach (string dir in Directory.GetDirectories(Path.Combine(SourceDirectory, "proc")))
        {
            string target = Path.Combine(root, Path.GetFileName(dir));
            Directory.CreateDirectory(target);
            foreach (string file in Directory.GetFiles(dir))
            {
                if (file.EndsWith(".gz", StringComparison.Ordinal))
                {
                    using FileStream input = File.OpenRead(file);
                    using var gzip = new GZipStream(input, CompressionMode.Decompress);
                    using FileStream output = File.Create(Path.Combine(target, Path.GetFileNameWithoutExtension(file)));
                    gzip.CopyTo(output);
                }
                else
                {
                    File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
                }
            }
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp directory is harmless.
            }
        };
        return root;
    }
}

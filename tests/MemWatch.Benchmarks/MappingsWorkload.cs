using System.Diagnostics;

namespace MemWatch.Benchmarks;

/// <summary>
/// Starts tests/workloads/many_mappings.c (embedded in this assembly, compiled with gcc) with a given number of one-page
/// mappings and keeps it idle until disposed.
/// </summary>
internal sealed class MappingsWorkload : IDisposable
{
    private readonly Process _process;

    private MappingsWorkload(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public static MappingsWorkload Start(int mappings)
    {
        string dir = Path.Combine(Path.GetTempPath(), "memwatch-bench");
        Directory.CreateDirectory(dir);
        string source = Path.Combine(dir, "many_mappings.c");
        string exe = Path.Combine(dir, "many_mappings");
        using (Stream resource = typeof(MappingsWorkload).Assembly.GetManifestResourceStream("many_mappings.c")!)
        using (FileStream file = File.Create(source))
        {
            resource.CopyTo(file);
        }

        using (Process cc = Process.Start("gcc", $"-O1 -o \"{exe}\" \"{source}\"")!)
        {
            cc.WaitForExit();
            if (cc.ExitCode != 0)
            {
                throw new InvalidOperationException("gcc failed to build many_mappings.c");
            }
        }

        var psi = new ProcessStartInfo(exe, mappings.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        Process p = Process.Start(psi)!;
        string? ready = p.StandardOutput.ReadLine();
        if (ready is null || !ready.StartsWith("READY", StringComparison.Ordinal))
        {
            p.Kill();
            throw new InvalidOperationException($"many_mappings did not start: '{ready}'");
        }

        return new MappingsWorkload(p);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}

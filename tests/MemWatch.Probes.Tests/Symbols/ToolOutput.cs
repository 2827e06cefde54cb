using System.Diagnostics;

namespace MemWatch.Probes.Tests.Symbols;

/// <summary>Runs a binutils tool (nm, readelf) to get an independent view of the same file.</summary>
internal static class ToolOutput
{
    public static string Run(string tool, string arguments)
    {
        var psi = new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{tool} {arguments} exited with {p.ExitCode}");
        return stdout;
    }

    /// <summary>
    /// Parses <c>nm</c> lines (<c>value type name</c>) of defined symbols into name (with any version suffix) → values.
    /// </summary>
    public static Dictionary<string, List<ulong>> NmSymbols(string file, bool dynamic)
    {
        var result = new Dictionary<string, List<ulong>>(StringComparer.Ordinal);
        foreach (string line in Run("nm", (dynamic ? "-D " : "") + "--defined-only \"" + file + "\"").Split('\n'))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3)
            {
                continue;
            }

            ulong value = Convert.ToUInt64(parts[0], 16);
            if (!result.TryGetValue(parts[2], out List<ulong>? list))
            {
                result[parts[2]] = list = [];
            }

            list.Add(value);
        }

        return result;
    }
}

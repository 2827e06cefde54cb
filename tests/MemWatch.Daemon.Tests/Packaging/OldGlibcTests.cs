using System.Diagnostics;
using System.Text.RegularExpressions;
using MemWatch.Daemon.Tests.Deploy;

namespace MemWatch.Daemon.Tests.Packaging;

/// <summary>
/// The executable scripts/publish makes runs on the older glibc it is linked against (scripts/sysroot: Debian 11's
/// 2.31): run by that glibc's own loader with its libraries, nothing of this machine's newer glibc is loaded.
/// </summary>
public sealed partial class OldGlibcTests
{
    private static readonly Lazy<string> s_sysroot = new(() =>
    {
        ExternalTool.Result r = ExternalTool.Run(SourceTree.Combine("scripts", "sysroot"), [], timeout: TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, $"scripts/sysroot failed ({r.ExitCode}):\n{r.Output}");
        return r.StandardOutput.Trim();
    });

    private static string Sysroot => s_sysroot.Value;

    private static string Loader => Path.Combine(Sysroot, "lib64", "ld-linux-x86-64.so.2");

    private static string LibraryPath => Path.Combine(Sysroot, "lib", "x86_64-linux-gnu");

    /// <summary>The sysroot's glibc release, from the libc6 version scripts/sysroot recorded ("libc6 2.31-13+deb11u11").</summary>
    private static Version SysrootGlibc
    {
        get
        {
            string line = File.ReadLines(Path.Combine(Sysroot, ".memwatch-sysroot")).Single(l => l.StartsWith("libc6 ", StringComparison.Ordinal));
            return Version.Parse(line.Split(' ')[1].Split('-')[0]);
        }
    }

    /// <summary>libe_sqlite3.so, shipped beside it and opened for the history, is checked alike.</summary>
    [Theory]
    [InlineData("memwatch")]
    [InlineData("libe_sqlite3.so")]
    public void NeedsNoGlibcSymbolNewerThanTheSysroots(string file)
    {
        ExternalTool.Result r = ExternalTool.Run("objdump", ["-T", Path.Combine(Path.GetDirectoryName(MemwatchCli.ExecutablePath)!, file)]);
        Assert.Equal(0, r.ExitCode);
        List<Version> needed = [.. GlibcVersion().Matches(r.StandardOutput).Select(m => Version.Parse(m.Groups[1].Value))];

        Assert.NotEmpty(needed);
        Assert.True(needed.Max() <= SysrootGlibc, $"{file} needs GLIBC_{needed.Max()}, newer than the sysroot's {SysrootGlibc}");
    }

    [Fact]
    public void EveryLibraryItLoadsIsTheSysroots()
    {
        ExternalTool.Result r = ExternalTool.Run(Loader, ["--list", "--library-path", LibraryPath, MemwatchCli.ExecutablePath]);

        Assert.True(r.ExitCode == 0, r.Output);
        string[] resolved = [.. r.StandardOutput.Split('\n').Where(l => l.Contains("=>", StringComparison.Ordinal))];
        Assert.Contains(resolved, l => l.Contains("libc.so.6", StringComparison.Ordinal));
        Assert.All(resolved, l => Assert.Contains($"=> {Sysroot}/", l));
    }

    [Fact]
    public void PrintsItsVersionOnTheSysrootsGlibc()
    {
        ExternalTool.Result r = ExternalTool.Run(Loader, ["--library-path", LibraryPath, MemwatchCli.ExecutablePath, "--version"]);

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Equal(SourceTree.Version, r.StandardOutput.Trim());
    }

    [Fact]
    public void InspectsAProcessOnTheSysrootsGlibc()
    {
        using Process target = Process.Start("sleep", "600");
        try
        {
            ExternalTool.Result r = ExternalTool.Run(
                Loader, ["--library-path", LibraryPath, MemwatchCli.ExecutablePath, "inspect", target.Id.ToString(), "--json"],
                timeout: TimeSpan.FromMinutes(2));

            Assert.True(r.ExitCode == 0, r.Output);
            Assert.Contains($"\"pid\": {target.Id}", r.StandardOutput);
            Assert.Contains("\"command\": \"sleep\"", r.StandardOutput);
        }
        finally
        {
            target.Kill();
            target.WaitForExit();
        }
    }

    [GeneratedRegex(@"\(GLIBC_(\d+\.\d+(?:\.\d+)?)\)")]
    private static partial Regex GlibcVersion();
}

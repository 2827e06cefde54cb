using System.Diagnostics;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Tests.Symbols;

/// <summary>
/// Two processes of the same program share one parsed ELF file per library: the cache key is the mapped file's own
/// size and mtime, not those of the /proc/PID/map_files link (whose mtime differs per process), which made the daemon
/// parse and keep every library again for every process it recognised a runtime in.
/// </summary>
public sealed class TargetSymbolsCacheTests
{
    [Fact]
    public void TryLoad_TwoProcessesOfOneProgram_ShareTheParsedFiles()
    {
        using Process a = Process.Start("sleep", "600")!;
        using Process b = Process.Start("sleep", "600")!;
        try
        {
            Thread.Sleep(200);
            Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, a.Id, new FileBuffer(), out TargetSymbols? first));
            Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, b.Id, new FileBuffer(), out TargetSymbols? second));

            TargetModule libcA = first.FindModule("libc.so")!, libcB = second.FindModule("libc.so")!;
            Assert.Same(libcA.Elf, libcB.Elf);
            Assert.Same(first.Modules[0].Elf, second.Modules[0].Elf);
        }
        finally
        {
            a.Kill();
            b.Kill();
        }
    }
}

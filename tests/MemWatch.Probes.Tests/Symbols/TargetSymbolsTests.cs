using System.Runtime.InteropServices;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Tests.Symbols;

public sealed class TargetSymbolsTests
{
    [Theory]
    [InlineData("malloc_trim")]
    [InlineData("mallinfo2")]
    [InlineData("malloc_info")]
    [InlineData("open_memstream")]
    public void TryResolve_OwnProcessLibc_MatchesDynamicLinker(string name)
    {
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, Environment.ProcessId, new FileBuffer(), out TargetSymbols? symbols));
        TargetModule? libc = symbols.FindModule("libc.so");
        Assert.NotNull(libc);

        nint handle = NativeLibrary.Load("libc.so.6");
        ulong expected = (ulong)NativeLibrary.GetExport(handle, name);
        Assert.True(TargetSymbols.TryResolve(libc, name, out TargetSymbolAddress address));
        Assert.Equal(expected, address.Address);
        Assert.True(symbols.TryResolveExport(name, out TargetSymbolAddress export));
        Assert.Equal(expected, export.Address);
    }

    [Fact]
    public void TryResolve_OwnProcessMainArena_PointsAtAnArenaRing()
    {
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, Environment.ProcessId, new FileBuffer(), out TargetSymbols? symbols));
        TargetModule libc = symbols.FindModule("libc.so")!;
        Assert.NotNull(libc.DebugFile);
        Assert.True(TargetSymbols.TryResolve(libc, "main_arena", out TargetSymbolAddress arena));
        Assert.True(arena.FromDebugFile);

        // Independent check in our own memory: following malloc_state.next (@2160) around the ring comes back to
        // main_arena, and each arena's mutex word is a valid lll lock value.
        ulong p = arena.Address;
        int hops = 0;
        do
        {
            int mutex = Marshal.ReadInt32((nint)p);
            Assert.InRange(mutex, 0, 2);
            p = (ulong)Marshal.ReadInt64((nint)(p + 2160));
            hops++;
        }
        while (p != arena.Address && hops < 10_000);
        Assert.Equal(arena.Address, p);
    }

    [Fact]
    public void FunctionRanges_LibcMalloc_CoverInternalAllocatorFunctionsFromDebugFile()
    {
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, Environment.ProcessId, new FileBuffer(), out TargetSymbols? symbols));
        TargetModule libc = symbols.FindModule("libc.so")!;
        IReadOnlyList<(ulong Start, ulong End)> ranges = TargetSymbols.FunctionRanges(libc, n => n is "_int_malloc" or "systrim" or "malloc");
        Assert.True(TargetSymbols.TryResolve(libc, "_int_malloc", out TargetSymbolAddress intMalloc));
        Assert.Contains(ranges, r => r.Start == intMalloc.Address && r.End == intMalloc.Address + intMalloc.Size);
        ulong malloc = (ulong)NativeLibrary.GetExport(NativeLibrary.Load("libc.so.6"), "malloc");
        Assert.Contains(ranges, r => r.Start <= malloc && malloc < r.End);
        for (int i = 1; i < ranges.Count; i++)
        {
            Assert.True(ranges[i - 1].End < ranges[i].Start);
        }
    }

    [Fact]
    public void Modules_OwnProcess_ExecutableFirstAndBasesMatchMaps()
    {
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, Environment.ProcessId, new FileBuffer(), out TargetSymbols? symbols));
        string exe = new FileInfo($"/proc/{Environment.ProcessId}/exe").LinkTarget!;
        Assert.Equal(exe, symbols.Modules[0].Path);

        TargetModule libc = symbols.FindModule("libc.so")!;
        string mapsLine = File.ReadAllLines($"/proc/{Environment.ProcessId}/maps")
            .First(l => l.EndsWith(libc.Path, StringComparison.Ordinal) && l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2] == "00000000");
        Assert.Equal(Convert.ToUInt64(mapsLine[..mapsLine.IndexOf('-', StringComparison.Ordinal)], 16), libc.BaseAddress);
    }

    [Fact]
    public void TryLoad_ProcessGone_ReturnsFalse()
    {
        var fs = new ProcFileSystem(Path.Combine(Path.GetTempPath(), "memwatch-no-proc-" + Guid.NewGuid()));
        Assert.False(TargetSymbols.TryLoad(fs, 12345, new FileBuffer(), out _));
    }
}

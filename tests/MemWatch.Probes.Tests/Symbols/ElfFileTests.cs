using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Tests.Symbols;

public sealed class ElfFileTests
{
    internal const string LibcPath = "/usr/lib/x86_64-linux-gnu/libc.so.6";

    [Fact]
    public void TryOpen_Libc_DynamicSymbolsMatchNm()
    {
        Assert.True(ElfFile.TryOpen(LibcPath, out ElfFile? libc, out string? reason), reason);
        Dictionary<string, List<ulong>> nm = ToolOutput.NmSymbols(LibcPath, dynamic: true);
        Assert.True(nm.Count > 2000, $"nm -D listed only {nm.Count} names");

        int checkedDefault = 0;
        foreach ((string nmName, List<ulong> values) in nm)
        {
            int at = nmName.IndexOf('@', StringComparison.Ordinal);
            string name = at < 0 ? nmName : nmName[..at];
            bool isDefault = at < 0 || nmName.AsSpan(at).StartsWith("@@");
            Assert.True(libc.TryFindDynamicSymbol(name, out ElfSymbol s), $"{name} missing");
            if (isDefault)
            {
                Assert.Equal(values[0], s.Value);
                Assert.True(s.IsDefaultVersion, name);
                checkedDefault++;
            }
        }

        Assert.True(checkedDefault > 2000, $"only {checkedDefault} default-version symbols compared");
        Assert.True(libc.TryFindDynamicSymbol("mallinfo2", out ElfSymbol mallinfo2));
        Assert.Equal(ElfSymbolType.Function, mallinfo2.Type);
    }

    [Fact]
    public void TryFindSymbol_VersionedName_PrefersDefaultVersion()
    {
        Assert.True(ElfFile.TryOpen(LibcPath, out ElfFile? libc, out _));
        Dictionary<string, List<ulong>> nm = ToolOutput.NmSymbols(LibcPath, dynamic: true);
        string? defaultName = nm.Keys.FirstOrDefault(k => k.StartsWith("fmemopen@@", StringComparison.Ordinal));
        string? hiddenName = nm.Keys.FirstOrDefault(k => k.StartsWith("fmemopen@", StringComparison.Ordinal) && !k.StartsWith("fmemopen@@", StringComparison.Ordinal));
        Assert.NotNull(defaultName);
        Assert.NotNull(hiddenName);
        Assert.NotEqual(nm[defaultName][0], nm[hiddenName][0]);

        Assert.True(libc.TryFindDynamicSymbol("fmemopen", out ElfSymbol s));
        Assert.Equal(nm[defaultName][0], s.Value);
    }

    [Fact]
    public void BuildId_Libc_MatchesReadelfAndLocatesDebugFileWithMainArena()
    {
        Assert.True(ElfFile.TryOpen(LibcPath, out ElfFile? libc, out _));
        string notes = ToolOutput.Run("readelf", "-n " + LibcPath);
        string idLine = notes.Split('\n').First(l => l.Contains("Build ID:", StringComparison.Ordinal));
        Assert.Equal(idLine.Split(':')[1].Trim(), libc.BuildId);

        string? debugPath = DebugFileLocator.Default.Locate(libc.BuildId!);
        Assert.NotNull(debugPath);
        Assert.True(ElfFile.TryOpen(debugPath, out ElfFile? debug, out _));
        Assert.Equal(libc.BuildId, debug.BuildId);

        Dictionary<string, List<ulong>> nm = ToolOutput.NmSymbols(debugPath, dynamic: false);
        Assert.False(libc.TryFindSymbol("main_arena", out _));
        Assert.True(debug.TryFindSymbol("main_arena", out ElfSymbol arena));
        Assert.Equal(nm["main_arena"][0], arena.Value);
        Assert.Equal(ElfSymbolType.Object, arena.Type);
        Assert.True(debug.TryFindSymbol("_int_malloc", out ElfSymbol intMalloc));
        Assert.Equal(nm["_int_malloc"][0], intMalloc.Value);
    }

    [Fact]
    public void FirstLoadVirtualAddress_Libc_MatchesReadelf()
    {
        Assert.True(ElfFile.TryOpen(LibcPath, out ElfFile? libc, out _));
        string phdrs = ToolOutput.Run("readelf", "-lW " + LibcPath);
        string firstLoad = phdrs.Split('\n').First(l => l.TrimStart().StartsWith("LOAD", StringComparison.Ordinal));
        ulong vaddr = Convert.ToUInt64(firstLoad.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], 16);
        Assert.Equal(vaddr, libc.FirstLoadVirtualAddress);
        Assert.Equal(phdrs.Split('\n').Count(l => l.TrimStart().StartsWith("LOAD", StringComparison.Ordinal)),
            libc.ProgramHeaders.Count(p => p.Type == ElfProgramHeader.PtLoad));
    }

    [Fact]
    public void TryParse_TextFile_ReturnsNotElf()
    {
        Assert.False(ElfFile.TryParse("#!/bin/sh\necho hello\n"u8.ToArray(), "script", out _, out string? reason));
        Assert.Contains("not an ELF", reason, StringComparison.Ordinal);
        Assert.False(ElfFile.TryParse([0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "elf32", out _, out reason));
        Assert.Contains("not ELF64", reason, StringComparison.Ordinal);
    }
}

using System.Buffers.Binary;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Tests.Symbols;

public sealed class DynamicSegmentSymbolsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TryParse_LibcWithoutSectionHeaders_ReadsDynsymThroughPtDynamic(bool withoutDtHash)
    {
        byte[] libc = File.ReadAllBytes(ElfFileTests.LibcPath);
        Assert.True(ElfFile.TryParse(libc, "libc", out ElfFile? full, out _));

        byte[] stripped = (byte[])libc.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(stripped.AsSpan(40), 0); // e_shoff
        BinaryPrimitives.WriteUInt16LittleEndian(stripped.AsSpan(60), 0); // e_shnum
        BinaryPrimitives.WriteUInt16LittleEndian(stripped.AsSpan(62), 0); // e_shstrndx
        if (withoutDtHash)
        {
            // Retag DT_HASH as DT_NULL-safe padding (DT_DEBUG, 21) so only DT_GNU_HASH gives the count.
            ElfProgramHeader dyn = full.ProgramHeaders.First(p => p.Type == ElfProgramHeader.PtDynamic);
            for (int at = (int)dyn.FileOffset; at < (int)(dyn.FileOffset + dyn.FileSize); at += 16)
            {
                if (BinaryPrimitives.ReadInt64LittleEndian(stripped.AsSpan(at)) == 4)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(stripped.AsSpan(at), 21);
                }
            }
        }

        Assert.True(ElfFile.TryParse(stripped, "stripped", out ElfFile? viaDynamic, out _));
        Assert.Empty(viaDynamic.Sections);
        Assert.Equal(full.DynamicSymbols.Count, viaDynamic.DynamicSymbols.Count);
        Assert.True(viaDynamic.TryFindDynamicSymbol("malloc_trim", out ElfSymbol trim));
        Assert.True(full.TryFindDynamicSymbol("malloc_trim", out ElfSymbol expected));
        Assert.Equal(expected, trim);
        Assert.Equal(full.BuildId, viaDynamic.BuildId);
    }
}

using System.Buffers.Binary;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Tests.Symbols;

public sealed class ElfFileRobustnessTests
{
    // A small real ELF (dynsym, versions, notes, sections) keeps thousands of cases fast; libc is used for a few hundred.
    private const string SmallElfPath = "/usr/bin/true";

    [Fact]
    public void TryParse_TruncatedCopies_OnlyProcParseExceptionOrNotElf()
    {
        byte[] original = File.ReadAllBytes(SmallElfPath);
        var random = new Random(20260501);
        int parsed = 0;
        for (int i = 0; i < 2000; i++)
        {
            int length = i < 300 ? i : random.Next(0, original.Length);
            parsed += ParseExpectingOnlyKnownFailures(original.AsSpan(0, length).ToArray(), $"truncated to {length}") ? 1 : 0;
        }

        // The section header table is the last thing in the file, so no cut can parse as a complete file,
        // while the whole file does: truncation is always reported, never silently half-read.
        Assert.Equal(0, parsed);
        Assert.True(ParseExpectingOnlyKnownFailures(original, "whole"));
    }

    [Fact]
    public void TryParse_GarbledHeadersAndTables_OnlyProcParseExceptionOrNotElf()
    {
        byte[] original = File.ReadAllBytes(SmallElfPath);
        Assert.True(ElfFile.TryParse(original, "true", out ElfFile? elf, out _));
        var interesting = new List<(int Start, int Length)> { (0, 64) };
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(original.AsSpan(32));
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(original.AsSpan(40));
        interesting.Add(((int)phoff, elf.ProgramHeaders.Count * 56));
        interesting.Add(((int)shoff, elf.Sections.Count * 64));
        foreach (ElfSection s in elf.Sections)
        {
            if (s.Type is ElfSection.ShtDynsym or ElfSection.ShtNote or ElfSection.ShtGnuVersym && s.Size > 0)
            {
                interesting.Add(((int)s.FileOffset, (int)s.Size));
            }
        }

        var random = new Random(4242);
        for (int i = 0; i < 4000; i++)
        {
            byte[] copy = (byte[])original.Clone();
            int flips = 1 + random.Next(8);
            for (int f = 0; f < flips; f++)
            {
                (int start, int length) = interesting[random.Next(interesting.Count)];
                int at = start + random.Next(length);
                copy[at] = random.Next(4) switch
                {
                    0 => 0xff,
                    1 => 0,
                    _ => (byte)random.Next(256),
                };
            }

            ParseExpectingOnlyKnownFailures(copy, $"case {i}");
        }
    }

    [Fact]
    public void TryParse_RandomBytesBehindElfMagic_OnlyProcParseExceptionOrNotElf()
    {
        var random = new Random(777);
        for (int i = 0; i < 3000; i++)
        {
            byte[] bytes = new byte[random.Next(16, 4096)];
            random.NextBytes(bytes);
            "\u007fELF"u8.CopyTo(bytes);
            bytes[4] = 2;
            bytes[5] = 1;
            ParseExpectingOnlyKnownFailures(bytes, $"random {i}");
        }
    }

    [Fact]
    public void TryParse_TruncatedAndGarbledLibc_OnlyProcParseExceptionOrNotElf()
    {
        byte[] original = File.ReadAllBytes(ElfFileTests.LibcPath);
        var random = new Random(99);
        for (int i = 0; i < 200; i++)
        {
            byte[] copy = original.AsSpan(0, random.Next(original.Length)).ToArray();
            for (int f = 0; f < 4; f++)
            {
                int at = random.Next(Math.Min(copy.Length, 4096));
                if (copy.Length > 0)
                {
                    copy[at] = (byte)random.Next(256);
                }
            }

            ParseExpectingOnlyKnownFailures(copy, $"libc case {i}");
        }
    }

    private static bool ParseExpectingOnlyKnownFailures(byte[] image, string label)
    {
        try
        {
            if (ElfFile.TryParse(image, label, out ElfFile? file, out string? reason))
            {
                // Lookups on whatever was parsed must be safe too.
                file.TryFindSymbol("malloc", out _);
                return true;
            }

            Assert.False(string.IsNullOrEmpty(reason));
            return false;
        }
        catch (ProcParseException e)
        {
            Assert.Equal(label, e.File);
            return false;
        }
    }
}

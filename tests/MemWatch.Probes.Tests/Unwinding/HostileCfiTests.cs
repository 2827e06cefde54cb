using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Tests.Unwinding;

/// <summary>
/// A target's CFI is untrusted input: libc's real <c>.eh_frame</c> with bytes overwritten at random (fixed seeds), looked
/// up, interpreted and unwound over at many pcs, must only ever yield a failed lookup or a stated end reason, never an
/// exception, a hang or a read outside the section.
/// </summary>
public sealed class HostileCfiTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void CorruptedEhFrameNeverThrows(int seed)
    {
        const string libcPath = "/lib/x86_64-linux-gnu/libc.so.6";
        using ElfImage image = ElfImage.OpenFile(libcPath);
        Assert.True(ElfFile.TryParse(image, out ElfFile? elf, out _));
        ElfSection eh = elf.Sections.First(s => s.Name == ".eh_frame");
        byte[] bytes = image.Read(eh.FileOffset, eh.Size, ".eh_frame");
        var random = new Random(seed);
        for (int i = 0; i < bytes.Length / 50; i++)
        {
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
        }

        // No .eh_frame_hdr: the table is rebuilt by walking the damaged section.
        var section = new CfiSection(bytes, eh.Address, isDebugFrame: false);
        var starts = new List<FrameDescriptionEntry>();
        section.ForEachFde(starts.Add);

        var interpreter = new CfaInterpreter();
        var unwinder = new StackUnwinder();
        var stack = new byte[4096];
        random.NextBytes(stack);
        var memory = new StackCopyMemory(0x7ffe0000, stack);
        var table = new UnwindModule(0x7f0000000000, 0x7f0000000000 + 0x200000, 0x7f0000000000, CfiTableFromSection(section), libcPath, null);
        UnwindAddressSpace space = UnwindAddressSpace.FromModules(1, [table]);
        foreach (FrameDescriptionEntry fde in starts.Take(2000))
        {
            interpreter.TryFindRow(section, fde, fde.PcBegin + ((fde.PcEnd - fde.PcBegin) / 2), out _, out _);

            UnwindRegisters regs = default;
            regs.Set(UnwindRegisters.Rip, 0x7f0000000000 + fde.PcBegin + 1);
            regs.Set(UnwindRegisters.Rsp, 0x7ffe0000 + 64);
            for (int r = 0; r < 16; r++)
            {
                if (r != UnwindRegisters.Rsp)
                {
                    regs.Set(r, (ulong)random.NextInt64());
                }
            }

            UnwindResult result = unwinder.Unwind(space, regs, memory, 64);
            Assert.InRange(result.Frames.Count, 1, 64);
        }

        // A damaged length ends the walk (nothing after it can be trusted), so the damaged walk may find few FDEs;
        // the undamaged header-less walk of the same section must find every FDE the search table has.
        var clean = new CfiSection(image.Read(eh.FileOffset, eh.Size, ".eh_frame"), eh.Address, isDebugFrame: false);
        int cleanCount = 0;
        clean.ForEachFde(_ => cleanCount++);
        Assert.Equal(CfiTable.Load(image, elf, default).FdeCount, cleanCount);
    }

    private static CfiTable CfiTableFromSection(CfiSection section) => CfiTable.FromSection(section);
}

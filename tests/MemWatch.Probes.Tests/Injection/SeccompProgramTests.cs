using System.Buffers.Binary;
using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Tests.Injection;

public sealed class SeccompProgramTests
{
    private const uint Errno = 0x00050000;
    private const uint KillProcess = 0x80000000;

    // ld arch; jeq x86_64 ? next : kill; ld nr; jeq 28 ? allow : next; jeq 9 ? next : errno; ld args[0]; jeq 0 ? allow : errno
    private static readonly (ushort, byte, byte, uint)[] s_program =
    [
        (0x20, 0, 0, 4),
        (0x15, 1, 0, SeccompProgram.AuditArchX8664),
        (0x06, 0, 0, KillProcess),
        (0x20, 0, 0, 0),
        (0x15, 3, 0, 28),
        (0x15, 0, 3, 9),
        (0x20, 0, 0, 16),
        (0x15, 0, 1, 0),
        (0x06, 0, 0, SeccompProgram.RetAllow),
        (0x06, 0, 0, Errno | 1),
    ];

    [Fact]
    public void Actions_SyscallAllowedOutright_AllowOnly()
    {
        Assert.Equal([SeccompProgram.RetAllow], Program().Actions(28)!);
    }

    [Fact]
    public void Actions_SyscallAllowedForSomeArguments_BothOutcomes()
    {
        HashSet<uint> actions = Program().Actions(9)!;
        Assert.Equal(2, actions.Count);
        Assert.Contains(SeccompProgram.RetAllow, actions);
        Assert.Contains(Errno, actions);
    }

    [Fact]
    public void Actions_SyscallNotListed_DefaultAction()
    {
        Assert.Equal([Errno], Program().Actions(15)!);
    }

    [Fact]
    public void Actions_JumpOutOfProgram_CannotBeWorkedOut()
    {
        Assert.Null(Parse([(0x05, 0, 0, 7)]).Actions(0));
    }

    private static SeccompProgram Program() => Parse(s_program);

    private static SeccompProgram Parse((ushort Code, byte Jt, byte Jf, uint K)[] insns)
    {
        byte[] bytes = new byte[insns.Length * 8];
        for (int i = 0; i < insns.Length; i++)
        {
            Span<byte> b = bytes.AsSpan(i * 8, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(b, insns[i].Code);
            b[2] = insns[i].Jt;
            b[3] = insns[i].Jf;
            BinaryPrimitives.WriteUInt32LittleEndian(b[4..], insns[i].K);
        }

        return SeccompProgram.Parse(bytes);
    }
}

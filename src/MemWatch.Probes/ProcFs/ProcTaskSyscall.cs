using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// <c>/proc/PID/task/TID/syscall</c> (proc(5)): the system call a thread is blocked in, with its stack pointer and program
/// counter. Formats: <c>nr arg1 .. arg6 sp pc</c> (in a system call), <c>-1 sp pc</c> (blocked, not in a system call),
/// <c>running</c> (on a CPU: no registers).
/// </summary>
internal readonly record struct ProcTaskSyscall(bool Running, long SyscallNumber, ulong StackPointer, ulong ProgramCounter)
{
    public static ProcTaskSyscall Parse(ReadOnlySpan<byte> text, string source)
    {
        ReadOnlySpan<byte> rest = ByteParsing.TrimSpaces(text.TrimEnd((byte)'\n'));
        ReadOnlySpan<byte> first = ByteParsing.NextField(ref rest);
        if (first.SequenceEqual("running"u8))
        {
            return new ProcTaskSyscall(true, -1, 0, 0);
        }

        if (!ByteParsing.TryParseInt64(first, out long nr))
        {
            throw new ProcParseException(source, 1, $"bad syscall number: '{ByteParsing.Excerpt(text)}'");
        }

        int skip = nr == -1 ? 0 : 6;
        for (int i = 0; i < skip; i++)
        {
            ByteParsing.NextField(ref rest);
        }

        if (!TryHex(ByteParsing.NextField(ref rest), out ulong sp)
            || !TryHex(ByteParsing.NextField(ref rest), out ulong pc)
            || !ByteParsing.NextField(ref rest).IsEmpty)
        {
            throw new ProcParseException(source, 1, $"expected '<nr> <args> <sp> <pc>': '{ByteParsing.Excerpt(text)}'");
        }

        return new ProcTaskSyscall(false, nr, sp, pc);
    }

    private static bool TryHex(ReadOnlySpan<byte> field, out ulong value)
    {
        value = 0;
        return field.StartsWith("0x"u8) && ByteParsing.TryParseHex(field[2..], out value);
    }
}

using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// <c>/proc/PID/task/TID/syscall</c> (proc(5)): the system call a thread is blocked in, with its stack pointer and program
/// counter, and the call's six arguments (empty when not in one). Formats: <c>nr arg1 .. arg6 sp pc</c> (in a system
/// call), <c>-1 sp pc</c> (blocked, not in a system call), <c>running</c> (on a CPU: no registers).
/// </summary>
internal readonly record struct ProcTaskSyscall(bool Running, long SyscallNumber, ulong StackPointer, ulong ProgramCounter, ulong[] Arguments)
{
    public static ProcTaskSyscall Parse(ReadOnlySpan<byte> text, string source)
    {
        ReadOnlySpan<byte> rest = ByteParsing.TrimSpaces(text.TrimEnd((byte)'\n'));
        ReadOnlySpan<byte> first = ByteParsing.NextField(ref rest);
        if (first.SequenceEqual("running"u8))
        {
            return new ProcTaskSyscall(true, -1, 0, 0, []);
        }

        if (!ByteParsing.TryParseInt64(first, out long nr))
        {
            throw new ProcParseException(source, 1, $"bad syscall number: '{ByteParsing.Excerpt(text)}'");
        }

        ulong[] args = nr == -1 ? [] : new ulong[6];
        for (int i = 0; i < args.Length; i++)
        {
            if (!TryHex(ByteParsing.NextField(ref rest), out args[i]))
            {
                throw new ProcParseException(source, 1, $"bad argument {i + 1}: '{ByteParsing.Excerpt(text)}'");
            }
        }

        if (!TryHex(ByteParsing.NextField(ref rest), out ulong sp)
            || !TryHex(ByteParsing.NextField(ref rest), out ulong pc)
            || !ByteParsing.NextField(ref rest).IsEmpty)
        {
            throw new ProcParseException(source, 1, $"expected '<nr> <args> <sp> <pc>': '{ByteParsing.Excerpt(text)}'");
        }

        return new ProcTaskSyscall(false, nr, sp, pc, args);
    }

    private static bool TryHex(ReadOnlySpan<byte> field, out ulong value)
    {
        value = 0;
        return field.StartsWith("0x"u8) && ByteParsing.TryParseHex(field[2..], out value);
    }
}

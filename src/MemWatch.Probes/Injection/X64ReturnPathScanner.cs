namespace MemWatch.Probes.Injection;

/// <summary>
/// Finds, in executable code of the target, the two x86_64 instruction sequences a self-restoring remote call
/// returns through (see <see cref="X64ReturnPath"/>). Pure byte scanning: the bytes are executed from the offset
/// found, whatever instruction boundaries the compiler had in mind.
/// </summary>
internal static class X64ReturnPathScanner
{
    /// <summary>glibc and musl <c>__restore_rt</c>: <c>48 c7 c0 0f 00 00 00</c> mov $0xf,%rax; <c>0f 05</c> syscall.</summary>
    public static ReadOnlySpan<byte> RestorerBytes => [0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05];

    private const int MaxTailItems = 8;

    /// <summary>Offset of the first restorer sequence, or -1.</summary>
    public static int FindRestorer(ReadOnlySpan<byte> code) => code.IndexOf(RestorerBytes);

    /// <summary>
    /// Offset of the best capture sequence, or -1: a <c>mov %rax,%reg</c> (preferred: it writes no memory) or a
    /// <c>mov %rax,disp(%reg)</c> through a callee-saved base, followed only by pops and <c>add $imm8,%rsp</c>, then <c>ret</c>.
    /// </summary>
    public static int FindCapture(ReadOnlySpan<byte> code, out int stackBytes, out int register, out bool storesToMemory, out int displacement)
    {
        int memoryAt = -1;
        (int Stack, int Reg, int Disp) memory = default;
        for (int i = code.IndexOf((byte)0x89); i >= 0; i = NextMov(code, i))
        {
            if (i < 1
                || !TryDecode(code, i - 1, out int length, out int reg, out bool toMemory, out int disp)
                || !TryDecodeTail(code[(i - 1 + length)..], toMemory ? -1 : reg, out int popped))
            {
                continue;
            }

            if (!toMemory)
            {
                stackBytes = popped;
                register = reg;
                storesToMemory = false;
                displacement = 0;
                return i - 1;
            }

            if (memoryAt < 0)
            {
                memoryAt = i - 1;
                memory = (popped, reg, disp);
            }
        }

        stackBytes = memory.Stack;
        register = memory.Reg;
        storesToMemory = memoryAt >= 0;
        displacement = memory.Disp;
        return memoryAt;
    }

    private static int NextMov(ReadOnlySpan<byte> code, int i)
    {
        int next = code[(i + 1)..].IndexOf((byte)0x89);
        return next < 0 ? -1 : i + 1 + next;
    }

    /// <summary>Decodes REX.W(+B) 89 /r with reg = rax at <paramref name="at"/>.</summary>
    internal static bool TryDecode(ReadOnlySpan<byte> code, int at, out int length, out int register, out bool toMemory, out int displacement)
    {
        length = 0;
        register = 0;
        toMemory = false;
        displacement = 0;
        if (at < 0 || at + 3 > code.Length || (code[at] != 0x48 && code[at] != 0x49) || code[at + 1] != 0x89)
        {
            return false;
        }

        byte modrm = code[at + 2];
        if (((modrm >> 3) & 7) != 0)
        {
            return false; // source is not rax
        }

        int mod = modrm >> 6;
        int rm = (modrm & 7) | (code[at] == 0x49 ? 8 : 0);
        if (mod == 3)
        {
            // Any register the restorer (rax) and the syscall instruction (rcx, r11) leave alone; not rsp.
            length = 3;
            register = rm;
            return rm is not (0 or 1 or 4 or 11);
        }

        // Memory form: the base must be callee-saved (rbx, rbp, r13, r14, r15) so it still holds our value
        // when the callee returns; rm 4 needs a SIB byte and mod 0 with rm 5 is rip-relative.
        if ((rm & 7) == 4 || (mod == 0 && (rm & 7) == 5) || rm is not (3 or 5 or 13 or 14 or 15))
        {
            return false;
        }

        if (mod == 0)
        {
            length = 3;
        }
        else if (mod == 1)
        {
            if (at + 4 > code.Length)
            {
                return false;
            }

            displacement = (sbyte)code[at + 3];
            length = 4;
        }
        else
        {
            if (at + 7 > code.Length)
            {
                return false;
            }

            displacement = BitConverter.ToInt32(code.Slice(at + 3, 4));
            length = 7;
        }

        register = rm;
        toMemory = true;
        return true;
    }

    /// <summary>Pops (not into rsp, not into <paramref name="keepRegister"/>) and small rsp additions, then ret.</summary>
    internal static bool TryDecodeTail(ReadOnlySpan<byte> code, int keepRegister, out int stackBytes)
    {
        stackBytes = 0;
        int i = 0;
        for (int item = 0; item <= MaxTailItems && i < code.Length; item++)
        {
            byte b = code[i];
            if (b == 0xc3)
            {
                return true;
            }

            int popped;
            if (b is >= 0x58 and <= 0x5f)
            {
                popped = b - 0x58;
                i += 1;
            }
            else if (b == 0x41 && i + 1 < code.Length && code[i + 1] is >= 0x58 and <= 0x5f)
            {
                popped = 8 + code[i + 1] - 0x58;
                i += 2;
            }
            else if (b == 0x48 && i + 3 < code.Length && code[i + 1] == 0x83 && code[i + 2] == 0xc4
                && code[i + 3] is > 0 and < 0x80 && code[i + 3] % 8 == 0)
            {
                stackBytes += code[i + 3];
                i += 4;
                continue;
            }
            else
            {
                return false;
            }

            if (popped == 4 || popped == keepRegister)
            {
                return false;
            }

            stackBytes += 8;
        }

        return false;
    }
}

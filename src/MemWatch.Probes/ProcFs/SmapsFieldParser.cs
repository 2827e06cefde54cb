using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Parses the <c>Key: value</c> lines shared by <c>/proc/PID/smaps</c> records and <c>/proc/PID/smaps_rollup</c>.
/// </summary>
/// <remarks>
/// The kernel prints the keys in a fixed order, so the parser first tries the key that followed the previous one and
/// only searches the table on a miss (a key this kernel leaves out, or one MemWatch does not know, which is ignored).
/// </remarks>
internal static class SmapsFieldParser
{
    private const int ThpEligibleKey = SmapsFieldValues.Count;
    private const int ProtectionKeyKey = ThpEligibleKey + 1;
    private const int VmFlagsKey = ProtectionKeyKey + 1;

    private static readonly byte[][] s_keys =
    [
        "Size:"u8.ToArray(),
        "KernelPageSize:"u8.ToArray(),
        "MMUPageSize:"u8.ToArray(),
        "Rss:"u8.ToArray(),
        "Pss:"u8.ToArray(),
        "Pss_Dirty:"u8.ToArray(),
        "Pss_Anon:"u8.ToArray(),
        "Pss_File:"u8.ToArray(),
        "Pss_Shmem:"u8.ToArray(),
        "Shared_Clean:"u8.ToArray(),
        "Shared_Dirty:"u8.ToArray(),
        "Private_Clean:"u8.ToArray(),
        "Private_Dirty:"u8.ToArray(),
        "Referenced:"u8.ToArray(),
        "Anonymous:"u8.ToArray(),
        "KSM:"u8.ToArray(),
        "LazyFree:"u8.ToArray(),
        "AnonHugePages:"u8.ToArray(),
        "ShmemPmdMapped:"u8.ToArray(),
        "FilePmdMapped:"u8.ToArray(),
        "Shared_Hugetlb:"u8.ToArray(),
        "Private_Hugetlb:"u8.ToArray(),
        "Swap:"u8.ToArray(),
        "SwapPss:"u8.ToArray(),
        "Locked:"u8.ToArray(),
        "THPeligible:"u8.ToArray(),
        "ProtectionKey:"u8.ToArray(),
        "VmFlags:"u8.ToArray(),
    ];

    private const int FixedLineLength = 28;
    private const int FixedNumberEnd = 24;

    /// <summary>Index of the key expected first in a record.</summary>
    public const int FirstKey = 0;

    /// <summary>
    /// Parses the <c>Key:</c> lines at the start of <paramref name="text"/> into <paramref name="fields"/> and returns the
    /// number of bytes consumed. Stops before the first line that is not a <c>Key:</c> line (the next mapping header:
    /// <paramref name="complete"/> is true) or before a line without its newline when more text may follow
    /// (<paramref name="isFinal"/> false: <paramref name="complete"/> is false and the caller reads more and calls again).
    /// </summary>
    /// <remarks>
    /// The common line, <c>Key:   digits kB\n</c> with the predicted key, is parsed in one forward pass without searching
    /// for the newline first; anything else takes the general path. <paramref name="lineNumber"/> counts consumed lines.
    /// </remarks>
    public static int ParseFields(
        ReadOnlySpan<byte> text,
        bool isFinal,
        ref SmapsFields fields,
        ref int expectedKey,
        ref int lineNumber,
        string source,
        out bool complete)
    {
        ReadOnlySpan<byte> rest = text;
        while (!rest.IsEmpty)
        {
            // Keys start with a capital letter; a line starting with a digit or a-f is the next mapping's address.
            if ((uint)(rest[0] - '0') <= 9 || (uint)(rest[0] - 'a') <= 5)
            {
                complete = true;
                return text.Length - rest.Length;
            }

            if ((uint)expectedKey < SmapsFieldValues.Count && rest.StartsWith(s_keys[expectedKey]))
            {
                int keyLength = s_keys[expectedKey].Length;

                // The kernel right-aligns the number to end at column 24 (seq_put_decimal_ull_width, width 8), so a
                // line is exactly 28 bytes while the value is below 10^8 kB: parse it without scanning the padding.
                if (rest.Length >= FixedLineLength
                    && rest[FixedLineLength - 1] == (byte)'\n'
                    && rest[FixedNumberEnd] == (byte)' '
                    && rest[FixedNumberEnd + 1] == (byte)'k'
                    && rest[FixedNumberEnd + 2] == (byte)'B')
                {
                    int b = FixedNumberEnd;
                    while (b > keyLength && (uint)(rest[b - 1] - '0') <= 9)
                    {
                        b--;
                    }

                    if (b < FixedNumberEnd && b > keyLength && rest[b - 1] == (byte)' ')
                    {
                        ulong v = 0;
                        for (int k = b; k < FixedNumberEnd; k++)
                        {
                            v = (v * 10) + (uint)(rest[k] - '0');
                        }

                        fields[(SmapsField)expectedKey] = v * 1024;
                        expectedKey++;
                        lineNumber++;
                        rest = rest[FixedLineLength..];
                        continue;
                    }
                }

                int j = keyLength;
                while (j < rest.Length && rest[j] == (byte)' ')
                {
                    j++;
                }

                int digits = j;
                ulong n = 0;
                while (j < rest.Length)
                {
                    uint d = (uint)(rest[j] - '0');
                    if (d > 9)
                    {
                        break;
                    }

                    n = (n * 10) + d;
                    j++;
                }

                // At most 15 digits: n * 1024 cannot overflow. Longer numbers take the checked general path.
                if (j > digits && j - digits <= 15 && j + 3 < rest.Length
                    && rest[j] == (byte)' ' && rest[j + 1] == (byte)'k' && rest[j + 2] == (byte)'B' && rest[j + 3] == (byte)'\n')
                {
                    fields[(SmapsField)expectedKey] = n * 1024;
                    expectedKey++;
                    lineNumber++;
                    rest = rest[(j + 4)..];
                    continue;
                }
            }

            else if (expectedKey >= SmapsFieldValues.Count && expectedKey < s_keys.Length && rest.StartsWith(s_keys[expectedKey]))
            {
                // THPeligible, ProtectionKey and VmFlags close every record: parse them without the general path.
                int end = rest.IndexOf((byte)'\n');
                if (end >= 0)
                {
                    ReadOnlySpan<byte> value = rest[s_keys[expectedKey].Length..end];
                    bool parsed = true;
                    if (expectedKey == VmFlagsKey)
                    {
                        fields.VmFlags = ParseVmFlags(value);
                    }
                    else if (TryParseSmallDecimal(value, out long v))
                    {
                        if (expectedKey == ThpEligibleKey)
                        {
                            fields.ThpEligible = v;
                        }
                        else
                        {
                            fields.ProtectionKey = v;
                        }
                    }
                    else
                    {
                        parsed = false;
                    }

                    if (parsed)
                    {
                        expectedKey++;
                        lineNumber++;
                        rest = rest[(end + 1)..];
                        continue;
                    }
                }
            }

            int nl = rest.IndexOf((byte)'\n');
            if (nl < 0 && !isFinal)
            {
                complete = false;
                return text.Length - rest.Length;
            }

            ReadOnlySpan<byte> line = nl < 0 ? rest : rest[..nl];
            if (!TryParse(line, ref fields, ref expectedKey, source, lineNumber + 1))
            {
                complete = true;
                return text.Length - rest.Length;
            }

            lineNumber++;
            rest = nl < 0 ? default : rest[(nl + 1)..];
        }

        complete = isFinal;
        return text.Length;
    }

    /// <summary>
    /// Parses one line into <paramref name="fields"/>. Returns false when the line is not a <c>Key:</c> line (the caller
    /// treats it as a mapping header). Throws <see cref="ProcParseException"/> when a known key has a malformed value.
    /// </summary>
    /// <remarks><paramref name="expectedKey"/> is the index of the key predicted next; it is updated to follow the key found.</remarks>
    private static bool TryParse(
        ReadOnlySpan<byte> line, ref SmapsFields fields, ref int expectedKey, string source, int lineNumber)
    {
        int key = -1;
        int keyLength = 0;
        if ((uint)expectedKey < (uint)s_keys.Length)
        {
            byte[] expected = s_keys[expectedKey];
            if (line.StartsWith(expected))
            {
                key = expectedKey;
                keyLength = expected.Length;
            }
        }

        if (key < 0)
        {
            int end = line.IndexOfAny((byte)':', (byte)' ');
            if (end < 0 || line[end] != (byte)':')
            {
                return false;
            }

            if (end == 0)
            {
                throw new ProcParseException(source, lineNumber, $"empty key: '{ByteParsing.Excerpt(line)}'");
            }

            keyLength = end + 1;
            key = Find(line[..keyLength], expectedKey);
            if (key < 0)
            {
                return true;
            }
        }

        expectedKey = key + 1;
        ReadOnlySpan<byte> value = line[keyLength..];
        if (key < SmapsFieldValues.Count)
        {
            fields[(SmapsField)key] = ParseKb(value, line, source, lineNumber);
        }
        else if (key == VmFlagsKey)
        {
            fields.VmFlags = ParseVmFlags(value);
        }
        else
        {
            if (!ByteParsing.TryParseInt64(ByteParsing.TrimSpaces(value), out long n))
            {
                throw new ProcParseException(source, lineNumber, $"bad number: '{ByteParsing.Excerpt(line)}'");
            }

            if (key == ThpEligibleKey)
            {
                fields.ThpEligible = n;
            }
            else
            {
                fields.ProtectionKey = n;
            }
        }

        return true;
    }

    private static int Find(ReadOnlySpan<byte> key, int start)
    {
        int n = s_keys.Length;
        for (int k = 0; k < n; k++)
        {
            int i = (start + k) % n;

            if (key.SequenceEqual(s_keys[i]))
            {
                return i;
            }
        }

        return -1;
    }

    // "      1234 kB" -> 1234 * 1024. A hand-rolled loop: this runs ~25 times per mapping.
    private static ulong ParseKb(ReadOnlySpan<byte> value, ReadOnlySpan<byte> line, string source, int lineNumber)
    {
        int i = 0;
        while (i < value.Length && value[i] == (byte)' ')
        {
            i++;
        }

        int digitsStart = i;
        ulong n = 0;
        while (i < value.Length)
        {
            uint d = (uint)(value[i] - '0');
            if (d > 9)
            {
                break;
            }

            if (n > (ulong.MaxValue / 1024 - d) / 10)
            {
                throw new ProcParseException(source, lineNumber, $"value out of range: '{ByteParsing.Excerpt(line)}'");
            }

            n = (n * 10) + d;
            i++;
        }

        ReadOnlySpan<byte> rest = value[i..];
        if (i == digitsStart || !(rest.SequenceEqual(" kB"u8) || ByteParsing.TrimSpaces(rest).SequenceEqual("kB"u8)))
        {
            throw new ProcParseException(source, lineNumber, $"expected '<number> kB': '{ByteParsing.Excerpt(line)}'");
        }

        return n * 1024;
    }

    private static VmFlags ParseVmFlags(ReadOnlySpan<byte> value)
    {
        VmFlags flags = VmFlags.None;
        int i = 0;
        while (i < value.Length)
        {
            if (value[i] is (byte)' ' or (byte)'\t')
            {
                i++;
                continue;
            }

            int start = i;
            while (i < value.Length && value[i] != (byte)' ' && value[i] != (byte)'\t')
            {
                i++;
            }

            if (i - start == 2)
            {
                flags |= Code((ushort)((value[start] << 8) | value[start + 1]));
            }
        }

        return flags;
    }

    // Spaces, up to 18 digits, spaces. Anything else (a sign, a longer number) is left to the general path.
    private static bool TryParseSmallDecimal(ReadOnlySpan<byte> value, out long result)
    {
        result = 0;
        int i = 0;
        while (i < value.Length && value[i] == (byte)' ')
        {
            i++;
        }

        int start = i;
        while (i < value.Length && i - start < 18)
        {
            uint d = (uint)(value[i] - '0');
            if (d > 9)
            {
                break;
            }

            result = (result * 10) + d;
            i++;
        }

        if (i == start)
        {
            return false;
        }

        while (i < value.Length && value[i] == (byte)' ')
        {
            i++;
        }

        return i == value.Length;
    }

    private static VmFlags Code(ushort c) => c switch
    {
        ('r' << 8) | 'd' => VmFlags.Readable,
        ('w' << 8) | 'r' => VmFlags.Writeable,
        ('e' << 8) | 'x' => VmFlags.Executable,
        ('s' << 8) | 'h' => VmFlags.Shared,
        ('m' << 8) | 'r' => VmFlags.MayRead,
        ('m' << 8) | 'w' => VmFlags.MayWrite,
        ('m' << 8) | 'e' => VmFlags.MayExecute,
        ('m' << 8) | 's' => VmFlags.MayShare,
        ('g' << 8) | 'd' => VmFlags.GrowsDown,
        ('p' << 8) | 'f' => VmFlags.PfnMap,
        ('d' << 8) | 'w' => VmFlags.DenyWrite,
        ('l' << 8) | 'o' => VmFlags.Locked,
        ('i' << 8) | 'o' => VmFlags.Io,
        ('s' << 8) | 'r' => VmFlags.SequentialRead,
        ('r' << 8) | 'r' => VmFlags.RandomRead,
        ('d' << 8) | 'c' => VmFlags.DontCopy,
        ('d' << 8) | 'e' => VmFlags.DontExpand,
        ('a' << 8) | 'c' => VmFlags.Accountable,
        ('n' << 8) | 'r' => VmFlags.NoReserve,
        ('h' << 8) | 't' => VmFlags.HugeTlb,
        ('s' << 8) | 'f' => VmFlags.SyncFaults,
        ('n' << 8) | 'l' => VmFlags.NonLinear,
        ('a' << 8) | 'r' => VmFlags.ArchSpecific,
        ('w' << 8) | 'f' => VmFlags.WipeOnFork,
        ('d' << 8) | 'd' => VmFlags.DontDump,
        ('s' << 8) | 'd' => VmFlags.SoftDirty,
        ('m' << 8) | 'm' => VmFlags.MixedMap,
        ('h' << 8) | 'g' => VmFlags.HugePage,
        ('n' << 8) | 'h' => VmFlags.NoHugePage,
        ('m' << 8) | 'g' => VmFlags.Mergeable,
        ('b' << 8) | 't' => VmFlags.BtiGuarded,
        ('m' << 8) | 't' => VmFlags.MteTagged,
        ('u' << 8) | 'm' => VmFlags.UffdMissing,
        ('u' << 8) | 'w' => VmFlags.UffdWriteProtect,
        ('u' << 8) | 'i' => VmFlags.UffdMinor,
        ('s' << 8) | 's' => VmFlags.ShadowStack,
        ('s' << 8) | 'l' => VmFlags.Sealed,
        ('l' << 8) | 'f' => VmFlags.LockOnFault,
        ('d' << 8) | 'p' => VmFlags.Droppable,
        ('g' << 8) | 'u' => VmFlags.MaybeGuard,
        _ => VmFlags.None,
    };
}

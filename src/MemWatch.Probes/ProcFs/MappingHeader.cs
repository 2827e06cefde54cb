using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// One mapping line of <c>/proc/PID/maps</c>, which is also the first line of each record of <c>/proc/PID/smaps</c>
/// (proc(5)): <c>start-end perms offset major:minor inode [pathname]</c>.
/// </summary>
/// <remarks>
/// Example: <c>7fd854000000-7fd8543d5000 rw-p 00000000 00:00 0</c> or
/// <c>55a6218f6000-55a6218f8000 r--p 00000000 fe:00 247629     /usr/bin/head</c>.
/// <see cref="Path"/> points into the reader's buffer and is valid only until the reader moves on; it may be empty
/// (anonymous), a bracketed pseudo-name (<c>[heap]</c>, <c>[stack]</c>, <c>[vdso]</c>, <c>[anon:name]</c>), or a file path that
/// can end in <c> (deleted)</c>. The kernel escapes a newline in a path as <c>\012</c>, so a path never spans lines.
/// </remarks>
public readonly ref struct MappingHeader
{
    public MappingHeader(
        ulong startAddress,
        ulong endAddress,
        MappingPermissions permissions,
        ulong offset,
        uint deviceMajor,
        uint deviceMinor,
        ulong inode,
        ReadOnlySpan<byte> path)
    {
        StartAddress = startAddress;
        EndAddress = endAddress;
        Permissions = permissions;
        Offset = offset;
        DeviceMajor = deviceMajor;
        DeviceMinor = deviceMinor;
        Inode = inode;
        Path = path;
    }

    public ulong StartAddress { get; }

    /// <summary>First address past the mapping.</summary>
    public ulong EndAddress { get; }

    public MappingPermissions Permissions { get; }

    /// <summary>Offset into the mapped file, in bytes (0 for anonymous mappings).</summary>
    public ulong Offset { get; }

    public uint DeviceMajor { get; }

    public uint DeviceMinor { get; }

    /// <summary>Inode of the mapped file; 0 for anonymous mappings.</summary>
    public ulong Inode { get; }

    /// <summary>The pathname column, without the padding before it; empty for an anonymous mapping.</summary>
    public ReadOnlySpan<byte> Path { get; }

    public ulong SizeBytes => EndAddress - StartAddress;

    /// <summary>The device column as the kernel prints it (<c>%02x:%02x</c>), e.g. <c>fe:00</c>.</summary>
    public string FormatDevice() => $"{DeviceMajor:x2}:{DeviceMinor:x2}";

    public bool IsShared => (Permissions & MappingPermissions.Shared) != 0;

    /// <summary>No backing file: an empty path or an <c>[anon:name]</c> tag (prctl PR_SET_VMA_ANON_NAME).</summary>
    public bool IsAnonymous => Path.IsEmpty || Path.StartsWith("[anon:"u8);

    /// <summary>Copies the header into an object that outlives the reader (allocates the path string).</summary>
    public MapsEntry ToEntry() => new(
        StartAddress, EndAddress, Permissions, Offset, DeviceMajor, DeviceMinor, Inode, System.Text.Encoding.UTF8.GetString(Path));

    /// <summary>
    /// Parses a header line. Returns false when <paramref name="line"/> is not a well-formed header.
    /// </summary>
    internal static bool TryParse(ReadOnlySpan<byte> line, out MappingHeader header)
    {
        header = default;
        int i = 0;
        if (!TryHex(line, ref i, (byte)'-', out ulong start)
            || !TryHex(line, ref i, (byte)' ', out ulong end)
            || end < start
            || line.Length < i + 5
            || line[i + 4] != (byte)' ')
        {
            return false;
        }

        MappingPermissions perms = MappingPermissions.None;
        if (!Flag(line[i], (byte)'r', MappingPermissions.Read, ref perms)
            || !Flag(line[i + 1], (byte)'w', MappingPermissions.Write, ref perms)
            || !Flag(line[i + 2], (byte)'x', MappingPermissions.Execute, ref perms))
        {
            return false;
        }

        switch (line[i + 3])
        {
            case (byte)'s':
                perms |= MappingPermissions.Shared;
                break;
            case (byte)'p':
                break;
            default:
                return false;
        }

        i += 5;
        if (!TryHex(line, ref i, (byte)' ', out ulong offset)
            || !TryHex(line, ref i, (byte)':', out ulong major)
            || !TryHex(line, ref i, (byte)' ', out ulong minor)
            || major > uint.MaxValue
            || minor > uint.MaxValue)
        {
            return false;
        }

        int inodeStart = i;
        ulong inode = 0;
        while (i < line.Length && line[i] != (byte)' ')
        {
            uint d = (uint)(line[i] - '0');
            if (d > 9 || inode > (ulong.MaxValue - d) / 10)
            {
                return false;
            }

            inode = (inode * 10) + d;
            i++;
        }

        if (i == inodeStart)
        {
            return false;
        }

        while (i < line.Length && line[i] == (byte)' ')
        {
            i++;
        }

        header = new MappingHeader(start, end, perms, offset, (uint)major, (uint)minor, inode, line[i..]);
        return true;
    }

    private static bool Flag(byte c, byte set, MappingPermissions flag, ref MappingPermissions perms)
    {
        if (c == set)
        {
            perms |= flag;
            return true;
        }

        return c == (byte)'-';
    }

    // Parses lower-case or upper-case hex up to the terminator and steps past it; at most 16 digits.
    private static bool TryHex(ReadOnlySpan<byte> line, ref int i, byte terminator, out ulong value)
    {
        ReadOnlySpan<byte> digits = HexDigits;
        value = 0;
        int start = i;
        while (i < line.Length)
        {
            byte c = line[i];
            if (c == terminator)
            {
                break;
            }

            uint d = digits[c];
            if (d > 15 || i - start >= 16)
            {
                return false;
            }

            value = (value << 4) | d;
            i++;
        }

        if (i == start || i >= line.Length)
        {
            return false;
        }

        i++;
        return true;
    }

    // Value of each byte as a hex digit; 255 for non-digits.
    private static ReadOnlySpan<byte> HexDigits =>
    [
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255,
        255, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    ];

    internal static string Describe(ReadOnlySpan<byte> line) => $"not a mapping header: '{ByteParsing.Excerpt(line)}'";
}

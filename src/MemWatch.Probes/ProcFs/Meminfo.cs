using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>System-wide memory figures from <c>/proc/meminfo</c> (proc_meminfo(5)).</summary>
/// <remarks>
/// Lines look like <c>MemAvailable:   24658628 kB</c>. Values are bytes (the kernel prints kB). MemTotal and MemFree
/// are always printed; every other field is null when its line is absent (older kernels, configuration-dependent
/// lines such as AnonHugePages). Unknown keys and the count lines (<c>HugePages_Total</c>) are ignored.
/// </remarks>
public sealed record Meminfo
{
    /// <summary><c>MemTotal</c>: usable RAM.</summary>
    public required ulong MemTotalBytes { get; init; }

    /// <summary><c>MemFree</c>: unused RAM.</summary>
    public required ulong MemFreeBytes { get; init; }

    /// <summary><c>MemAvailable</c>: estimate of memory available for new work without swapping (Linux 3.14+).</summary>
    public ulong? MemAvailableBytes { get; init; }

    /// <summary><c>Buffers</c>.</summary>
    public ulong? BuffersBytes { get; init; }

    /// <summary><c>Cached</c>: page cache, excluding SwapCached.</summary>
    public ulong? CachedBytes { get; init; }

    /// <summary><c>SwapCached</c>.</summary>
    public ulong? SwapCachedBytes { get; init; }

    /// <summary><c>Active</c>.</summary>
    public ulong? ActiveBytes { get; init; }

    /// <summary><c>Inactive</c>.</summary>
    public ulong? InactiveBytes { get; init; }

    /// <summary><c>Active(anon)</c>.</summary>
    public ulong? ActiveAnonBytes { get; init; }

    /// <summary><c>Inactive(anon)</c>.</summary>
    public ulong? InactiveAnonBytes { get; init; }

    /// <summary><c>Active(file)</c>.</summary>
    public ulong? ActiveFileBytes { get; init; }

    /// <summary><c>Inactive(file)</c>.</summary>
    public ulong? InactiveFileBytes { get; init; }

    /// <summary><c>SwapTotal</c>.</summary>
    public ulong? SwapTotalBytes { get; init; }

    /// <summary><c>SwapFree</c>.</summary>
    public ulong? SwapFreeBytes { get; init; }

    /// <summary><c>Dirty</c>.</summary>
    public ulong? DirtyBytes { get; init; }

    /// <summary><c>AnonPages</c>: anonymous pages mapped into user page tables.</summary>
    public ulong? AnonPagesBytes { get; init; }

    /// <summary><c>Mapped</c>: files mapped with mmap.</summary>
    public ulong? MappedBytes { get; init; }

    /// <summary><c>Shmem</c>: shared memory and tmpfs.</summary>
    public ulong? ShmemBytes { get; init; }

    /// <summary><c>Slab</c>.</summary>
    public ulong? SlabBytes { get; init; }

    /// <summary><c>SReclaimable</c>: the reclaimable part of Slab.</summary>
    public ulong? SReclaimableBytes { get; init; }

    /// <summary><c>CommitLimit</c>.</summary>
    public ulong? CommitLimitBytes { get; init; }

    /// <summary><c>Committed_AS</c>: memory promised to processes.</summary>
    public ulong? CommittedAsBytes { get; init; }

    /// <summary><c>AnonHugePages</c>: anonymous transparent huge pages.</summary>
    public ulong? AnonHugePagesBytes { get; init; }

    /// <summary>Reads <c>/proc/meminfo</c>; false when the file does not exist.</summary>
    /// <exception cref="ProcParseException">The file is malformed.</exception>
    public static bool TryRead(ProcFileSystem fs, FileBuffer buffer, [NotNullWhen(true)] out Meminfo? value)
    {
        string path = fs.SystemPath("meminfo");
        if (!buffer.TryLoad(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    /// <summary>Parses the contents of a meminfo file. Pure.</summary>
    /// <exception cref="ProcParseException">Malformed, truncated, or without MemTotal or MemFree.</exception>
    public static Meminfo Parse(ReadOnlySpan<byte> text, string source)
    {
        ProcText.RequireNewlineTerminated(text, source);
        Span<ulong?> v = stackalloc ulong?[s_keys.Length];
        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (!ProcText.TrySplitKeyValue(line, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value))
            {
                throw new ProcParseException(source, reader.LineNumber, $"expected 'Key: value', got '{ByteParsing.Excerpt(line)}'");
            }

            int index = IndexOf(key);
            if (index < 0)
            {
                continue;
            }

            if (!ByteParsing.TryParseKbValue(value, out ulong bytes, out bool hadKb) || !hadKb)
            {
                throw new ProcParseException(source, reader.LineNumber, $"bad {s_keys[index]} value '{ByteParsing.Excerpt(value)}'");
            }

            v[index] = bytes;
        }

        return new Meminfo
        {
            MemTotalBytes = v[0] ?? throw new ProcParseException(source, 0, "no 'MemTotal:' line"),
            MemFreeBytes = v[1] ?? throw new ProcParseException(source, 0, "no 'MemFree:' line"),
            MemAvailableBytes = v[2],
            BuffersBytes = v[3],
            CachedBytes = v[4],
            SwapCachedBytes = v[5],
            ActiveBytes = v[6],
            InactiveBytes = v[7],
            ActiveAnonBytes = v[8],
            InactiveAnonBytes = v[9],
            ActiveFileBytes = v[10],
            InactiveFileBytes = v[11],
            SwapTotalBytes = v[12],
            SwapFreeBytes = v[13],
            DirtyBytes = v[14],
            AnonPagesBytes = v[15],
            MappedBytes = v[16],
            ShmemBytes = v[17],
            SlabBytes = v[18],
            SReclaimableBytes = v[19],
            CommitLimitBytes = v[20],
            CommittedAsBytes = v[21],
            AnonHugePagesBytes = v[22],
        };
    }

    // Index order matches the object initializer in Parse.
    private static readonly string[] s_keys =
    [
        "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active", "Inactive",
        "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)", "SwapTotal", "SwapFree", "Dirty",
        "AnonPages", "Mapped", "Shmem", "Slab", "SReclaimable", "CommitLimit", "Committed_AS", "AnonHugePages",
    ];

    private static readonly byte[][] s_keyBytes = Array.ConvertAll(s_keys, System.Text.Encoding.ASCII.GetBytes);

    private static int IndexOf(ReadOnlySpan<byte> key)
    {
        for (int i = 0; i < s_keyBytes.Length; i++)
        {
            if (key.SequenceEqual(s_keyBytes[i]))
            {
                return i;
            }
        }

        return -1;
    }
}

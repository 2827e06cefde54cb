using System.Collections.Concurrent;
using System.Security.Cryptography;
using MemWatch.Probes.Symbols;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// Process-wide cache of parsed CFI tables keyed by <see cref="FileIdentity"/>. Every lookup opens the file through
/// the target's own path (its <c>map_files</c> entry or its root) and fstats that descriptor, so a table learnt from
/// one process's root is reused for another only when the file that process maps is provably the same object
/// (same device, inode, size, mtime and build-id); nothing is trusted by path or by build-id alone.
/// </summary>
internal static class CfiTableCache
{
    // Bounded like ElfFileCache: a daemon that sees many short-lived containers must not grow without end.
    private const int MaxEntries = 512;

    private static readonly ConcurrentDictionary<FileIdentity, CfiTable> s_tables = new();

    public static int Count => s_tables.Count;

    /// <summary>
    /// The table of the file at <paramref name="openPath"/>, parsed on a miss. <paramref name="expectedBuildId"/> is what
    /// the caller believes the file is (from its symbol tables); a file whose own build-id differs is refused (null,
    /// with the reason), since the caller's addresses would not fit it. Throws IO exceptions when it cannot be read.
    /// </summary>
    public static CfiTable? GetOrLoad(string openPath, string? expectedBuildId, ElfFile? debugFile, string? debugPath, out string? problem)
    {
        problem = null;
        using ElfImage image = ElfImage.OpenFile(openPath);
        if (!Libc.TryFStat(image.Handle!, out ulong dev, out ulong ino, out long size, out long mtime))
        {
            problem = $"{openPath}: fstat failed";
            return null;
        }

        // The build-id is not known before parsing: look up by the stat identity with the expected id first.
        var key = new FileIdentity(expectedBuildId, dev, ino, size, mtime);
        if (s_tables.TryGetValue(key, out CfiTable? cached))
        {
            return cached;
        }

        if (!ElfFile.TryParse(image, out ElfFile? elf, out string? notElf))
        {
            problem = notElf;
            return null;
        }

        if (elf.BuildId != expectedBuildId)
        {
            problem = $"{openPath}: build-id {elf.BuildId ?? "none"} is not the expected {expectedBuildId ?? "none"}";
            return null;
        }

        CfiTable table;
        if (debugFile is not null && debugPath is not null && debugFile.BuildId == elf.BuildId)
        {
            using ElfImage debugImage = ElfImage.OpenFile(debugPath);
            table = CfiTable.Load(image, elf, key, debugImage, debugFile);
        }
        else
        {
            table = CfiTable.Load(image, elf, key);
        }

        if (s_tables.Count >= MaxEntries)
        {
            s_tables.Clear();
        }

        return s_tables.GetOrAdd(key, table);
    }

    /// <summary>The vDSO's table, parsed from the bytes read out of the target and keyed by their hash.</summary>
    public static CfiTable? GetOrLoadImage(byte[] imageBytes, string source)
    {
        byte[] hash = SHA256.HashData(imageBytes);
        var key = new FileIdentity("sha256:" + Convert.ToHexStringLower(hash), 0, 0, imageBytes.Length, 0);
        if (s_tables.TryGetValue(key, out CfiTable? cached))
        {
            return cached;
        }

        using ElfImage image = ElfImage.FromBytes(imageBytes, source);
        if (!ElfFile.TryParse(image, out ElfFile? elf, out _))
        {
            return null;
        }

        return s_tables.GetOrAdd(key, CfiTable.Load(image, elf, key));
    }

    internal static void Clear() => s_tables.Clear();
}

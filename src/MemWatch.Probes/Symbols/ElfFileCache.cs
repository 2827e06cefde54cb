using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.Symbols;

/// <summary>
/// Process-wide cache of parsed ELF files: a library mapped by hundreds of processes is parsed once.
/// Object files are keyed by device, inode, size and mtime (a replaced file gets a new key); debug files by
/// build-id. Files that are not ELF are cached as such so that mapped data files are not re-read every sample.
/// </summary>
internal static class ElfFileCache
{
    // Bounded so a daemon that watches many short-lived containers does not grow without end.
    private const int MaxEntries = 1024;

    private static readonly ConcurrentDictionary<string, ElfFile?> s_files = new(StringComparer.Ordinal);

    public static int Count => s_files.Count;

    /// <summary>Returns the parsed file for <paramref name="key"/>, parsing <paramref name="openPath"/> on a miss; null when it is not an ELF file.</summary>
    public static ElfFile? GetOrOpen(string key, string openPath)
    {
        if (s_files.TryGetValue(key, out ElfFile? cached))
        {
            return cached;
        }

        ElfFile? parsed = ElfFile.TryOpen(openPath, out ElfFile? file, out _) ? file : null;
        if (s_files.Count >= MaxEntries)
        {
            s_files.Clear();
        }

        return s_files.GetOrAdd(key, parsed);
    }

    /// <summary>Returns the parsed file for <paramref name="key"/>, parsing the open <paramref name="handle"/> on a miss;
    /// the handle is closed either way.</summary>
    public static ElfFile? GetOrParse(string key, SafeFileHandle handle, string source)
    {
        if (s_files.TryGetValue(key, out ElfFile? cached))
        {
            handle.Dispose();
            return cached;
        }

        ElfFile? parsed = ElfFile.TryParseOpenFile(handle, source, out ElfFile? file, out _) ? file : null;
        if (s_files.Count >= MaxEntries)
        {
            s_files.Clear();
        }

        return s_files.GetOrAdd(key, parsed);
    }

    internal static void Clear() => s_files.Clear();
}

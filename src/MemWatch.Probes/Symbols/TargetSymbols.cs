using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Files;
using MemWatch.Probes.ProcFs;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.Symbols;

/// <summary>
/// The ELF objects mapped into a process (/proc/PID/maps, proc(5)) and symbol lookup in them: a symbol's address in
/// the target is <c>base + st_value - p_vaddr(first PT_LOAD)</c>. Files are opened through
/// <c>/proc/PID/map_files/&lt;range&gt;</c> (or <c>/proc/PID/root/&lt;path&gt;</c>) so that a target in another mount
/// namespace (a container) resolves against its own libraries; debug files are found by build-id.
/// </summary>
public sealed class TargetSymbols
{
    // Larger than any real library or debug file; ElfImage bounds each read as well.
    private const long MaxObjectBytes = 2L * 1024 * 1024 * 1024;

    private readonly List<TargetModule> _modules;

    private TargetSymbols(int pid, List<TargetModule> modules, List<string> problems)
    {
        Pid = pid;
        _modules = modules;
        Problems = problems;
    }

    public int Pid { get; }

    /// <summary>Mapped ELF objects, the main executable first, then in address order.</summary>
    public IReadOnlyList<TargetModule> Modules => _modules;

    /// <summary>Objects that could not be read or parsed (with the reason); they are left out of <see cref="Modules"/>.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>
    /// Reads the maps of <paramref name="pid"/> and parses every mapped ELF object (through the process-wide cache).
    /// Returns false when the process is gone. Throws <see cref="UnauthorizedAccessException"/> when its maps cannot be read.
    /// </summary>
    public static bool TryLoad(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out TargetSymbols? symbols, DebugFileLocator? debugFiles = null)
    {
        symbols = null;
        string mapsPath = fs.ProcessPath(pid, "maps");
        if (!buffer.TryLoad(mapsPath))
        {
            return false;
        }

        List<MappedFile> maps = MappedFile.ParseMaps(buffer.Span, mapsPath);
        string? exePath = ReadExeLink(fs, pid);
        DebugFileLocator locator = debugFiles ?? DebugFileLocator.Default;
        string targetRoot = fs.ProcessPath(pid, "root");

        var modules = new List<TargetModule>();
        var problems = new List<string>();
        var seen = new HashSet<(string Device, ulong Inode, string Path)>();
        foreach (MappedFile first in maps)
        {
            if (!seen.Add((first.Device, first.Inode, first.Path)))
            {
                continue;
            }

            ulong baseAddress = ulong.MaxValue;
            MappedFile? baseMapping = null;
            var executable = new List<(ulong, ulong)>();
            foreach (MappedFile m in maps)
            {
                if (m.Inode != first.Inode || m.Device != first.Device || m.Path != first.Path)
                {
                    continue;
                }

                if (m.FileOffset == 0 && baseMapping is null)
                {
                    baseMapping = m;
                    baseAddress = m.Start;
                }

                if (m.Executable)
                {
                    executable.Add((m.Start, m.End));
                }
            }

            if (baseMapping is not { } b)
            {
                // Without the header mapping there is no load base (a file mapped with mmap at an offset, not loaded).
                continue;
            }

            ElfFile? elf;
            try
            {
                elf = OpenMapped(fs, pid, b);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcParseException)
            {
                if (!FileBuffer.IsGone(e) || Directory.Exists(fs.ProcessDirectory(pid)))
                {
                    problems.Add($"{b.Path}: {e.Message}");
                    continue;
                }

                return false;
            }

            if (elf is null || !elf.HasLoadSegment)
            {
                continue;
            }

            var module = new TargetModule(b.Path, baseAddress, executable, elf, file => LoadDebugFile(file, locator, targetRoot));
            if (exePath is not null && b.Path == exePath)
            {
                modules.Insert(0, module);
            }
            else
            {
                modules.Add(module);
            }
        }

        symbols = new TargetSymbols(pid, modules, problems);
        return true;
    }

    /// <summary>The first module whose file name starts with <paramref name="fileNamePrefix"/> (e.g. <c>libc.so</c>), or null.</summary>
    public TargetModule? FindModule(string fileNamePrefix)
    {
        foreach (TargetModule m in _modules)
        {
            if (m.FileName.StartsWith(fileNamePrefix, StringComparison.Ordinal))
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>Finds an exported (.dynsym) definition of <paramref name="name"/>, searching the executable first, then the libraries.</summary>
    public bool TryResolveExport(string name, out TargetSymbolAddress address)
    {
        foreach (TargetModule m in _modules)
        {
            if (m.Elf.TryFindDynamicSymbol(name, out ElfSymbol s))
            {
                address = new TargetSymbolAddress(name, m.AddressOf(s), s.Size, s.Type, m, false);
                return true;
            }
        }

        address = default;
        return false;
    }

    /// <summary>
    /// Resolves <paramref name="name"/> in one module: .dynsym, then .symtab, then (when <paramref name="useDebugFile"/>)
    /// the debug file's .symtab, which holds file-local symbols such as glibc's <c>main_arena</c>.
    /// </summary>
    public static bool TryResolve(TargetModule module, string name, out TargetSymbolAddress address, bool useDebugFile = true)
    {
        if (module.Elf.TryFindSymbol(name, out ElfSymbol s))
        {
            address = new TargetSymbolAddress(name, module.AddressOf(s), s.Size, s.Type, module, false);
            return true;
        }

        if (useDebugFile && module.DebugFile is { } debug && debug.TryFindSymbol(name, out s))
        {
            address = new TargetSymbolAddress(name, module.AddressOf(s), s.Size, s.Type, module, true);
            return true;
        }

        address = default;
        return false;
    }

    /// <summary>
    /// The target address ranges [Start, End) of the functions of <paramref name="module"/> whose name, without a
    /// compiler suffix such as <c>.part.0</c> or <c>.constprop.0</c>, satisfies <paramref name="isWanted"/>; taken from
    /// .dynsym, .symtab and the debug file. Overlapping and touching ranges are merged; the list is sorted.
    /// </summary>
    public static IReadOnlyList<(ulong Start, ulong End)> FunctionRanges(TargetModule module, Func<string, bool> isWanted)
    {
        var ranges = new List<(ulong Start, ulong End)>();
        Add(module.Elf.DynamicSymbols);
        Add(module.Elf.Symbols);
        if (module.DebugFile is { } debug)
        {
            Add(debug.Symbols);
        }

        return MergeRanges(ranges);

        void Add(IReadOnlyList<ElfSymbol> symbols)
        {
            foreach (ElfSymbol s in symbols)
            {
                if (s.Type is ElfSymbolType.Function or ElfSymbolType.IndirectFunction && s.Size > 0 && isWanted(BaseName(s.Name)))
                {
                    ulong start = module.AddressOf(s);
                    ranges.Add((start, start + s.Size));
                }
            }
        }
    }

    /// <summary>Sorts and merges overlapping or touching ranges.</summary>
    public static IReadOnlyList<(ulong Start, ulong End)> MergeRanges(List<(ulong Start, ulong End)> ranges)
    {
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<(ulong Start, ulong End)>(ranges.Count);
        foreach ((ulong start, ulong end) in ranges)
        {
            if (merged.Count > 0 && start <= merged[^1].End)
            {
                merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, end));
            }
            else
            {
                merged.Add((start, end));
            }
        }

        return merged;
    }

    /// <summary><c>systrim.constprop.0</c> → <c>systrim</c>: GCC's clones keep the source name before the first dot.</summary>
    internal static string BaseName(string name)
    {
        int dot = name.IndexOf('.', 1);
        return dot < 0 ? name : name[..dot];
    }

    private static ElfFile? OpenMapped(ProcFileSystem fs, int pid, MappedFile mapping)
    {
        // map_files reaches the very inode that is mapped, even when deleted or in another mount namespace; it needs
        // CAP_SYS_ADMIN, so the path beneath /proc/PID/root (never leaving it, never through a link) is the fallback.
        // Both are checked on the open descriptor: a FIFO, a device or a sparse giant is refused, not read.
        string mapFiles = fs.ProcessPath(pid, $"map_files/{mapping.Start:x}-{mapping.End:x}");
        SafeFileHandle handle;
        string source;
        try
        {
            handle = CheckedFile.OpenRegular(mapFiles, MaxObjectBytes);
            source = mapFiles;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or FileNotFoundException)
        {
            using ProcessRoot root = ProcessRoot.Open(fs.ProcessPath(pid, "root"));
            handle = root.OpenRegularFile(mapping.Path, MaxObjectBytes);
            source = root.Path + mapping.Path;
        }

        FileStatus status;
        try
        {
            status = CheckedFile.Stat(handle, source);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        string key = $"{mapping.Device}:{mapping.Inode}:{status.Device}:{status.Inode}:{status.SizeBytes}";
        return ElfFileCache.GetOrParse(key, handle, source);
    }

    private static ElfFile? LoadDebugFile(ElfFile file, DebugFileLocator locator, string targetRoot)
    {
        if (file.BuildId is not { } buildId || DebugFileLocator.RelativePath(buildId) is not { } relative)
        {
            return null;
        }

        try
        {
            // MemWatch's own debug files first; the target's are opened beneath its root and keyed by their inode, so a
            // file one container planted serves no other.
            ElfFile? debug;
            if (locator.Locate(buildId) is { } path)
            {
                debug = ElfFileCache.GetOrOpen("build-id:" + buildId, path);
            }
            else
            {
                using ProcessRoot root = ProcessRoot.Open(targetRoot);
                SafeFileHandle handle = root.OpenRegularFile($"{DebugFileLocator.DefaultRoot}/{relative}", MaxObjectBytes);
                FileStatus status = CheckedFile.Stat(handle, root.Path);
                debug = ElfFileCache.GetOrParse($"build-id:{buildId}:{status.Device}:{status.Inode}", handle, root.Path + DebugFileLocator.DefaultRoot + "/" + relative);
            }

            // A debug file for another build would give wrong addresses: trust it only when the ids agree.
            return debug?.BuildId == buildId ? debug : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcParseException)
        {
            return null;
        }
    }

    private static string? ReadExeLink(ProcFileSystem fs, int pid)
    {
        try
        {
            return new FileInfo(fs.ProcessPath(pid, "exe")).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

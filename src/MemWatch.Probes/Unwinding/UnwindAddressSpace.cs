using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// The code of one process as the unwinder sees it: each executable mapping with its module's CFI table. Built once
/// per target (and again when its mappings change: a dlopen'd library is not in an older one); lookups are a binary
/// search. Modules whose CFI could not be read are listed in <see cref="Problems"/>, and a pc in them ends an unwind
/// with <see cref="UnwindEndReason.NoCfi"/>.
/// </summary>
public sealed class UnwindAddressSpace
{
    private readonly UnwindModule[] _modules;

    private UnwindAddressSpace(int pid, UnwindModule[] modules, List<string> problems)
    {
        Pid = pid;
        _modules = modules;
        Problems = problems;
    }

    public int Pid { get; }

    public IReadOnlyList<string> Problems { get; }

    internal IReadOnlyList<UnwindModule> Modules => _modules;

    /// <summary>
    /// Builds the address space of a process from its parsed modules. Each file is opened again through
    /// <c>/proc/PID/map_files</c> (or <c>/proc/PID/root</c>) and identified by fstat + build-id (see <see cref="CfiTableCache"/>).
    /// The vDSO is read from the target's memory through <paramref name="memory"/> when given.
    /// </summary>
    public static UnwindAddressSpace Load(ProcFileSystem fs, TargetSymbols symbols, IUnwindMemory? memory = null, DebugFileLocator? debugFiles = null)
    {
        int pid = symbols.Pid;
        var list = new List<UnwindModule>();
        var problems = new List<string>();
        DebugFileLocator locator = debugFiles ?? DebugFileLocator.Default;
        foreach (TargetModule m in symbols.Modules)
        {
            if (m.ExecutableRanges.Count == 0)
            {
                continue;
            }

            (ulong start, ulong end) = m.ExecutableRanges[0];
            string mapFiles = fs.ProcessPath(pid, $"map_files/{start:x}-{end:x}");
            string viaRoot = fs.ProcessPath(pid, "root") + m.Path;
            string? debugPath = m.DebugFile is { BuildId: { } id } ? locator.Locate(id, fs.ProcessPath(pid, "root") + DebugFileLocator.DefaultRoot) : null;
            CfiTable? table = null;
            string? problem = null;
            foreach (string path in (ReadOnlySpan<string>)[mapFiles, viaRoot])
            {
                try
                {
                    table = CfiTableCache.GetOrLoad(path, m.Elf.BuildId, m.DebugFile, debugPath, out problem);
                    break;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcParseException)
                {
                    problem = $"{m.Path}: {e.Message}";
                }
            }

            if (table is null)
            {
                problems.Add(problem ?? $"{m.Path}: no CFI");
                continue;
            }

            ulong bias = m.BaseAddress - m.Elf.FirstLoadVirtualAddress;
            foreach ((ulong s, ulong e) in m.ExecutableRanges)
            {
                list.Add(new UnwindModule(s, e, bias, table, m.Path, m));
            }
        }

        if (memory is not null)
        {
            AddVdso(fs, pid, memory, list, problems);
        }

        list.Sort((a, b) => a.Start.CompareTo(b.Start));
        return new UnwindAddressSpace(pid, [.. list], problems);
    }

    internal static UnwindAddressSpace FromModules(int pid, IEnumerable<UnwindModule> modules)
        => new(pid, [.. modules.OrderBy(m => m.Start)], []);

    internal UnwindModule? Find(ulong pc)
    {
        int lo = 0;
        int hi = _modules.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            UnwindModule m = _modules[mid];
            if (pc < m.Start)
            {
                hi = mid - 1;
            }
            else if (pc >= m.End)
            {
                lo = mid + 1;
            }
            else
            {
                return m;
            }
        }

        return null;
    }

    private static void AddVdso(ProcFileSystem fs, int pid, IUnwindMemory memory, List<UnwindModule> list, List<string> problems)
    {
        var buffer = new FileBuffer(16 * 1024);
        if (!ProcMaps.TryRead(fs, pid, buffer, out ProcMapsEnumerator maps))
        {
            return;
        }

        foreach (MappingHeader m in maps)
        {
            if (!m.Path.SequenceEqual("[vdso]"u8) || m.EndAddress - m.StartAddress > 1024 * 1024)
            {
                continue;
            }

            byte[] bytes = new byte[m.EndAddress - m.StartAddress];
            if (!memory.TryRead(m.StartAddress, bytes))
            {
                problems.Add("[vdso]: unreadable");
                return;
            }

            try
            {
                // The vDSO is a prelinked image mapped at its start: its link-time address 0 is the mapping start.
                if (CfiTableCache.GetOrLoadImage(bytes, "[vdso]") is { } table)
                {
                    list.Add(new UnwindModule(m.StartAddress, m.EndAddress, m.StartAddress, table, "[vdso]", null));
                }
            }
            catch (ProcParseException e)
            {
                problems.Add($"[vdso]: {e.Message}");
            }

            return;
        }
    }
}

using MemWatch.Probes.Allocators;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.SafePoints;

/// <summary>
/// The critical regions of one process, from its modules' symbol tables: glibc's malloc, malloc_stats/malloc_info, fork,
/// the stdio functions that take <c>list_all_lock</c>, libc's dl* functions and all of ld.so, jemalloc and tcmalloc.
/// With libc6-dbg installed the glibc ranges come from the debug file's full <c>.symtab</c> (static functions such as
/// <c>_int_malloc</c> included); without it from the exported symbols, widened as <see cref="GlibcIntrospector"/> does.
/// </summary>
public sealed class CriticalRegions
{
    private static readonly HashSet<string> s_statistics = new(StringComparer.Ordinal)
    {
        "malloc_stats", "__malloc_stats", "malloc_info", "__malloc_info",
    };

    private static readonly HashSet<string> s_fork = new(StringComparer.Ordinal)
    {
        "fork", "__fork", "__libc_fork", "_Fork", "__run_prefork_handlers", "__run_postfork_handlers",
        "__malloc_fork_lock_parent", "__malloc_fork_unlock_parent", "__malloc_fork_unlock_child", "vfork", "__vfork",
    };

    // genops.c and iofclose.c functions that take list_all_lock (or call one that does while holding a FILE lock).
    private static readonly HashSet<string> s_stdioList = new(StringComparer.Ordinal)
    {
        "_IO_list_lock", "_IO_list_unlock", "_IO_list_resetlock", "_IO_link_in", "_IO_un_link", "_IO_flush_all",
        "_IO_flush_all_lockp", "_IO_flush_all_linebuffered", "_IO_flush_lbf", "_IO_cleanup", "_IO_unbuffer_all",
        "fcloseall", "__fcloseall", "flush_cleanup", "_IO_new_fclose", "fclose", "_IO_new_file_init_internal",
        "_IO_new_file_init", "_IO_file_init", "_IO_old_init", "_IO_no_init", "__open_memstream", "open_memstream",
        "_IO_new_fdopen", "fdopen", "__fopen_internal", "_IO_new_fopen", "fopen", "fopen64", "__fopen_maybe_mmap",
        "_IO_new_proc_open", "popen", "_IO_new_popen", "_IO_new_proc_close", "_IO_new_file_close_it", "_IO_file_close_it",
        "freopen", "freopen64", "fmemopen", "__fmemopen", "open_wmemstream", "fopencookie", "_IO_fopencookie",
    };

    private static readonly HashSet<string> s_dl = new(StringComparer.Ordinal)
    {
        "dlopen", "dlclose", "dlsym", "dlvsym", "dlmopen", "dladdr", "dladdr1", "dlinfo", "dlerror",
        "dl_iterate_phdr", "__dl_iterate_phdr", "__libc_dlopen_mode", "__libc_dlclose", "__libc_dlsym", "__libc_dlvsym",
        "_dl_find_object", "__libc_early_init",
    };

    private readonly CriticalRegion[] _regions;

    // The regions cut into elementary intervals [_bounds[i], _bounds[i + 1]), each owned by the first region (in list
    // order, most specific first) that covers it, or -1: a lookup is one binary search, whatever the regions' overlaps.
    // The rule looks up every frame of the stack at every call, and libc alone brings hundreds of regions.
    private readonly ulong[] _bounds;
    private readonly int[] _owner;

    /// <summary>Regions as given, first most specific (for tests; <see cref="Build"/> makes them from a process).</summary>
    internal CriticalRegions(IEnumerable<CriticalRegion> regions)
        : this([.. regions], exact: false)
    {
    }

    private CriticalRegions(CriticalRegion[] regions, bool exact)
    {
        _regions = regions;
        IsExactForGlibc = exact;
        (_bounds, _owner) = Index(regions);
    }

    public IReadOnlyList<CriticalRegion> Regions => _regions;

    /// <summary>True when glibc's ranges come from its debug file (every function of malloc.c by name), not from exports only.</summary>
    public bool IsExactForGlibc { get; }

    public static CriticalRegions Build(TargetSymbols symbols, IEnumerable<(ulong Start, ulong End)>? extra = null)
    {
        var list = new List<CriticalRegion>();
        bool exact = false;
        foreach (TargetModule m in symbols.Modules)
        {
            string file = m.FileName;
            if (file.StartsWith("libc.so", StringComparison.Ordinal))
            {
                exact = m.DebugFile is not null;

                // Most specific first: Find returns the first region that holds a pc.
                Add(list, m, CriticalRegionKind.MallocStatistics, "malloc_stats/malloc_info", s_statistics.Contains);
                Add(list, m, CriticalRegionKind.Fork, "fork", s_fork.Contains);
                Add(list, m, CriticalRegionKind.StdioListLock, "stdio list_all_lock", s_stdioList.Contains);
                Add(list, m, CriticalRegionKind.DynamicLoader, "libc dl* (dl_load_lock)", n => s_dl.Contains(n) || n.StartsWith("_dl_", StringComparison.Ordinal));
                foreach ((ulong start, ulong end) in GlibcIntrospector.MallocCodeRanges(m))
                {
                    list.Add(new CriticalRegion(start, end, CriticalRegionKind.GlibcMalloc, "glibc malloc"));
                }
            }
            else if (file.StartsWith("ld-linux", StringComparison.Ordinal) || file.StartsWith("ld.so", StringComparison.Ordinal))
            {
                AddWhole(list, m, CriticalRegionKind.DynamicLoader, "ld.so");
            }
            else if (file.StartsWith("libjemalloc", StringComparison.Ordinal))
            {
                AddWhole(list, m, CriticalRegionKind.Jemalloc, "jemalloc");
            }
            else if (file.StartsWith("libtcmalloc", StringComparison.Ordinal))
            {
                AddWhole(list, m, CriticalRegionKind.Tcmalloc, "tcmalloc");
            }
            else
            {
                // jemalloc linked statically (redis builds it in with the je_ prefix).
                Add(list, m, CriticalRegionKind.Jemalloc, $"jemalloc in {file}", n => n.StartsWith("je_", StringComparison.Ordinal));
            }
        }

        foreach ((ulong start, ulong end) in extra ?? [])
        {
            list.Add(new CriticalRegion(start, end, CriticalRegionKind.Other, "caller's unsafe range"));
        }

        return new CriticalRegions([.. list], exact);
    }

    /// <summary>The first region holding <paramref name="pc"/>, most specific kind first.</summary>
    public bool TryFind(ulong pc, out CriticalRegion region)
    {
        // The last bound at or below pc starts the interval that holds it.
        int i = Array.BinarySearch(_bounds, pc);
        i = i >= 0 ? i : ~i - 1;
        if (i >= 0 && i < _owner.Length && _owner[i] >= 0)
        {
            region = _regions[_owner[i]];
            return true;
        }

        region = default;
        return false;
    }

    private static (ulong[] Bounds, int[] Owner) Index(CriticalRegion[] regions)
    {
        var cuts = new SortedSet<ulong>();
        foreach (CriticalRegion r in regions)
        {
            if (r.Start < r.End)
            {
                cuts.Add(r.Start);
                cuts.Add(r.End);
            }
        }

        ulong[] bounds = [.. cuts];
        int[] owner = new int[Math.Max(0, bounds.Length - 1)];
        Array.Fill(owner, -1);
        for (int k = 0; k < regions.Length; k++)
        {
            if (regions[k].Start >= regions[k].End)
            {
                continue;
            }

            for (int i = Array.BinarySearch(bounds, regions[k].Start); i < owner.Length && bounds[i] < regions[k].End; i++)
            {
                if (owner[i] < 0)
                {
                    owner[i] = k;
                }
            }
        }

        return (bounds, owner);
    }

    private static void Add(List<CriticalRegion> list, TargetModule m, CriticalRegionKind kind, string name, Func<string, bool> isWanted)
    {
        foreach ((ulong start, ulong end) in TargetSymbols.FunctionRanges(m, isWanted))
        {
            list.Add(new CriticalRegion(start, end, kind, name));
        }
    }

    private static void AddWhole(List<CriticalRegion> list, TargetModule m, CriticalRegionKind kind, string name)
    {
        foreach ((ulong start, ulong end) in m.ExecutableRanges)
        {
            list.Add(new CriticalRegion(start, end, kind, name));
        }
    }
}

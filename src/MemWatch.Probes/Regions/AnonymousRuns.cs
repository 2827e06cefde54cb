namespace MemWatch.Probes.Regions;

/// <summary>
/// Runs of contiguous private anonymous mappings, in address order, and where their undecided memory goes: the .NET
/// GC's regions reservation when a run is shaped like one (1 GiB or more, 512 MiB or more of it still reserved, some
/// part committed), else anonymous memory, or allocator extents for rw mappings of 1 MiB or more.
/// </summary>
internal sealed class AnonymousRuns
{
    private const ulong MinExtentBytes = 1UL << 20;
    private const ulong MinGcRunBytes = 1UL << 30;
    private const ulong MinGcReservedBytes = 512UL << 20;

    private bool _inRun;
    private ulong _runStart;
    private ulong _runEnd;
    private ulong _runReservedBytes;
    private bool _runCommitted;
    private RegionTotals _runAnon;
    private RegionTotals _runExtent;

    private RegionTotals _gcAnon;
    private RegionTotals _gcExtent;
    private RegionTotals _anon;
    private RegionTotals _extentCandidates;

    /// <summary>Undecided memory of runs shaped like the GC's reservation: gc-heap if the runtime is .NET.</summary>
    public RegionTotals GcAnon => _gcAnon;

    /// <summary>The rw mappings of 1 MiB or more among <see cref="GcAnon"/>'s runs.</summary>
    public RegionTotals GcExtent => _gcExtent;

    /// <summary>Undecided memory of other runs, in mappings under 1 MiB or not rw: anonymous.</summary>
    public RegionTotals Anon => _anon;

    /// <summary>Undecided rw mappings of 1 MiB or more of other runs: allocator extents if jemalloc or tcmalloc is mapped.</summary>
    public RegionTotals ExtentCandidates => _extentCandidates;

    public void Reset()
    {
        _inRun = false;
        _runAnon = _runExtent = _gcAnon = _gcExtent = _anon = _extentCandidates = default;
        _runReservedBytes = 0;
        _runCommitted = false;
    }

    /// <summary>Adds a private anonymous mapping to the current run, or starts a new run when it is not contiguous.</summary>
    public void Continue(in PendingMapping m)
    {
        if (!_inRun || m.Start != _runEnd)
        {
            Close();
            _inRun = true;
            _runStart = m.Start;
        }

        _runEnd = m.End;
    }

    /// <summary>Counts a mapping of the current run that no layout rule claimed.</summary>
    public void AddUndecided(in PendingMapping m)
    {
        if (m.IsNoAccess)
        {
            _runReservedBytes += m.Size;
        }
        else if (m.IsReadWrite)
        {
            _runCommitted = true;
        }

        if (m.IsReadWrite && m.Size >= MinExtentBytes)
        {
            _runExtent.Add(m.Amount);
        }
        else
        {
            _runAnon.Add(m.Amount);
        }
    }

    /// <summary>Ends the current run (a mapping that is not private anonymous, or the last one).</summary>
    public void Close()
    {
        if (!_inRun)
        {
            return;
        }

        if (_runEnd - _runStart >= MinGcRunBytes && _runReservedBytes >= MinGcReservedBytes && _runCommitted)
        {
            _gcAnon.Add(_runAnon);
            _gcExtent.Add(_runExtent);
        }
        else
        {
            _anon.Add(_runAnon);
            _extentCandidates.Add(_runExtent);
        }

        _inRun = false;
        _runAnon = _runExtent = default;
        _runReservedBytes = 0;
        _runCommitted = false;
    }
}

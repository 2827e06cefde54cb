namespace MemWatch.Probes.Attribution;

/// <summary>
/// Which sampled page faults are still resident, by site. A sampled fault stands for its page (and period - 1 others
/// like it); munmap, a shrinking brk or mremap and madvise(DONTNEED/FREE/REMOVE) over its page give it back, and a
/// moving mremap carries it along. What is left at the end is the growth a site caused during the capture.
/// </summary>
internal sealed class GrowthLedger
{
    private const ulong PageMask = ~4095UL;

    private readonly Dictionary<ulong, (int Site, long Bytes)> _live = [];
    private readonly List<long> _liveBytes = [];
    private readonly List<long> _faultedBytes = [];
    private readonly List<long> _mappedBytes = [];

    public long FaultedBytes { get; private set; }

    /// <summary>Faulted bytes later given back by munmap, brk, mremap or madvise during the capture.</summary>
    public long ReleasedBytes { get; private set; }

    /// <summary>Address space given back (lengths of munmap, brk shrinks, mremap shrinks, madvise), faulted or not.</summary>
    public long UnmappedBytes { get; private set; }

    /// <summary>Address space added (mmap lengths, brk and mremap growth).</summary>
    public long MappedBytes { get; private set; }

    /// <summary>The program break after the last brk seen, or the initial [heap] end.</summary>
    public ulong? Break { get; set; }

    public int LiveFaults => _live.Count;

    public long LiveBytes(int site) => site < _liveBytes.Count ? _liveBytes[site] : 0;

    public long SiteFaultedBytes(int site) => site < _faultedBytes.Count ? _faultedBytes[site] : 0;

    public long SiteMappedBytes(int site) => site < _mappedBytes.Count ? _mappedBytes[site] : 0;

    public void Fault(ulong address, int site, long bytes)
    {
        Grow(site);
        ulong page = address & PageMask;
        FaultedBytes += bytes;
        _faultedBytes[site] += bytes;
        if (_live.TryGetValue(page, out (int Site, long Bytes) old))
        {
            // A second fault on a page that never left (a write after a read of the zero page) adds no memory.
            _liveBytes[old.Site] -= old.Bytes;
        }

        _live[page] = (site, bytes);
        _liveBytes[site] += bytes;
    }

    public void Mapped(int site, long bytes)
    {
        Grow(site);
        MappedBytes += bytes;
        _mappedBytes[site] += bytes;
    }

    /// <summary>The break moved to <paramref name="newBreak"/>: growth is mapped at <paramref name="site"/>, a shrink releases.</summary>
    public void BrkTo(ulong newBreak, int site)
    {
        if (Break is { } old)
        {
            if (newBreak > old)
            {
                Mapped(site, (long)(newBreak - old));
            }
            else if (newBreak < old)
            {
                Release(newBreak, old - newBreak);
            }
        }

        Break = newBreak;
    }

    /// <summary>[start, start+length) left the process (or was dropped by madvise): its sampled faults are released.</summary>
    public void Release(ulong start, ulong length)
    {
        if (length == 0)
        {
            return;
        }

        UnmappedBytes += (long)Math.Min(length, long.MaxValue);
        ulong first = start & PageMask;
        ulong end = start + length;
        if (end < start)
        {
            end = ulong.MaxValue;
        }

        ulong span = end - first;
        ulong pages = (span / 4096) + (span % 4096 != 0 ? 1UL : 0UL);
        if (pages <= (ulong)_live.Count)
        {
            for (ulong page = first; page < end && page >= first; page += 4096)
            {
                Take(page);
            }
        }
        else
        {
            foreach (ulong page in _live.Keys.Where(p => p >= first && p < end).ToList())
            {
                Take(page);
            }
        }
    }

    /// <summary>mremap moved [oldStart, oldStart+keep) to newStart: its sampled faults move with it.</summary>
    public void Move(ulong oldStart, ulong keep, ulong newStart)
    {
        if (oldStart == newStart || keep == 0)
        {
            return;
        }

        var moved = new List<(ulong, (int, long))>();
        foreach ((ulong page, (int, long) entry) in _live)
        {
            if (page >= oldStart && page - oldStart < keep)
            {
                moved.Add((page, entry));
            }
        }

        foreach ((ulong page, (int, long) entry) in moved)
        {
            _live.Remove(page);
            _live[page - oldStart + newStart] = entry;
        }
    }

    /// <summary>Drops live faults for which <paramref name="exclude"/> is true (file-backed pages); returns their bytes.</summary>
    public long Exclude(Func<ulong, bool> exclude)
    {
        long bytes = 0;
        foreach (ulong page in _live.Keys.Where(exclude).ToList())
        {
            (int site, long b) = _live[page];
            _live.Remove(page);
            _liveBytes[site] -= b;
            bytes += b;
        }

        return bytes;
    }

    private void Take(ulong page)
    {
        if (_live.Remove(page, out (int Site, long Bytes) entry))
        {
            _liveBytes[entry.Site] -= entry.Bytes;
            ReleasedBytes += entry.Bytes;
        }
    }

    private void Grow(int site)
    {
        while (_liveBytes.Count <= site)
        {
            _liveBytes.Add(0);
            _faultedBytes.Add(0);
            _mappedBytes.Add(0);
        }
    }
}

using System.Diagnostics;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// Attributes a process's memory growth to call stacks, without ptrace and without reading its memory: perf events
/// sample its page faults and its brk, mmap, munmap, mremap and madvise calls with user registers and a copy of the
/// user stack; each sample is unwound with <c>.eh_frame</c> CFI, faults are weighed page size × period, and a
/// fault's bytes count for its stack until its page is unmapped or dropped (<see cref="GrowthLedger"/>).
/// </summary>
public sealed class AttributionCapture
{
    private const long MaxPendingSamples = 200_000;

    private readonly ProcFileSystem _fs;
    private readonly int _pid;
    private readonly AttributionOptions _options;
    private readonly GrowthLedger _ledger = new();
    private readonly Dictionary<StackKey, int> _sites = [];
    private readonly List<ulong[]> _siteStacks = [];
    private readonly Dictionary<int, (ulong Address, ulong OldLength, ulong NewLength)> _pendingMremap = [];
    private readonly List<PerfSample> _pending = [];
    private readonly Stack<PerfSample> _pool = new();
    private readonly List<ulong> _pcs = [];
    private readonly SampleUnwinder _unwinder;
    private TargetView _view = null!;
    private long _events;
    private long _lost;
    private long _truncated;
    private long _otherProcess;
    private ulong _cut;

    private AttributionCapture(ProcFileSystem fs, int pid, AttributionOptions options)
    {
        _fs = fs;
        _pid = pid;
        _options = options;
        _unwinder = new SampleUnwinder(options.MaxFrames);
    }

    /// <summary>
    /// Captures for <paramref name="duration"/> (or until <paramref name="cancel"/>). Returns null when the process is
    /// gone, before or during the capture. Throws <see cref="PerfAccessException"/> when perf events are refused (the message says what is missing).
    /// </summary>
    public static AttributionResult? Run(int pid, TimeSpan duration, AttributionOptions? options = null, CancellationToken cancel = default, ProcFileSystem? fs = null)
    {
        if (PerfAccess.CheckAllowed() is { } refusal)
        {
            throw new PerfAccessException(refusal);
        }

        var capture = new AttributionCapture(fs ?? ProcFileSystem.Default, pid, options ?? new AttributionOptions());
        return capture.Execute(duration, cancel);
    }

    private AttributionResult? Execute(TimeSpan duration, CancellationToken cancel)
    {
        var buffer = new FileBuffer(64 * 1024);
        if (!ProcStatus.TryRead(_fs, _pid, buffer, out ProcStatus? status) || IsGone(status))
        {
            return null;
        }

        TimeSpan cpuBefore = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        long startTicks = Stopwatch.GetTimestamp();
        TargetView? view = TargetView.Load(_fs, _pid, status.RealUid, status.InnermostNSpid ?? _pid);
        if (view is null)
        {
            return null;
        }

        _view = view;
        _ledger.Break = HeapEnd(view.Mappings);
        var notes = new List<string>(view.Space.Problems.Select(p => "no CFI: " + p));
        List<PerfEventSpec> specs = BuildSpecs(view.Symbolizer.IsDotNet, notes);
        int[] cpus = OnlineCpus(_fs);
        using var events = new PerfEventSet(_pid, specs, cpus, _options.RingPages);
        try
        {
            for (int pass = 0; pass < 20 && events.AddNewThreads(_fs) > 0; pass++)
            {
            }
        }
        catch (InvalidOperationException)
        {
            return null;
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long nextRescan = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline && !cancel.IsCancellationRequested)
        {
            events.Wait((int)Math.Clamp((deadline - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency, 1, 50));
            Drain(events);
            if (Stopwatch.GetTimestamp() >= nextRescan)
            {
                nextRescan = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
                try
                {
                    events.AddNewThreads(_fs);
                }
                catch (InvalidOperationException)
                {
                    break;
                }
            }
        }

        Drain(events, final: true);
        double seconds = Stopwatch.GetElapsedTime(startTicks).TotalSeconds;
        TimeSpan cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        int threads = events.ThreadCount;
        notes.AddRange(events.Notes);
        events.Dispose();

        if (!ProcStatus.TryRead(_fs, _pid, buffer, out ProcStatus? end) || IsGone(end))
        {
            // It exited during the capture: its growth went with it.
            return null;
        }

        List<TargetMapping> finalMaps = TargetView.ReadMappings(_fs, _pid, buffer);
        if (view.Symbolizer.IsDotNet)
        {
            // Names for JIT code made during the capture: the perf map as it is now.
            _view = TargetView.Load(_fs, _pid, status.RealUid, status.InnermostNSpid ?? _pid) ?? _view;
            if (!_view.HasPerfMap)
            {
                notes.Add("no JIT perf map: start the process with DOTNET_PerfMapEnabled=1 to name JIT frames");
            }
        }

        long fileBacked = _ledger.Exclude(page => IsFileBacked(finalMaps, page));
        long rssGrowth = (long)(end.RssAnonBytes ?? 0) - (long)(status.RssAnonBytes ?? 0);
        return Summarize(seconds, cpu.TotalSeconds, threads, fileBacked, rssGrowth, notes);
    }

    private AttributionResult Summarize(double seconds, double cpuSeconds, int threads, long fileBacked, long rssGrowth, List<string> notes)
    {
        // Sites with the same functions are one site, whatever instruction inside them each sample stopped at.
        var merged = new Dictionary<string, (List<AttributionFrame> Frames, long Bytes, long Mapped)>(StringComparer.Ordinal);
        for (int site = 0; site < _siteStacks.Count; site++)
        {
            long bytes = _ledger.LiveBytes(site);
            long mapped = _ledger.SiteMappedBytes(site);
            if (bytes <= 0 && mapped <= 0)
            {
                continue;
            }

            List<AttributionFrame> frames = _siteStacks[site].Select(_view.Symbolizer.Symbolize).ToList();
            string key = string.Join(";", frames.Select(f => f.Function == "[unknown]" ? $"{f.Module}+{f.Offset:x}" : f.Label));
            merged[key] = merged.TryGetValue(key, out var m) ? (m.Frames, m.Bytes + bytes, m.Mapped + mapped) : (frames, bytes, mapped);
        }

        long total = merged.Values.Sum(v => Math.Max(0, v.Bytes));
        bool growth = total >= _options.MinGrowthBytes && rssGrowth >= _options.MinGrowthBytes;
        string? reason = growth ? null
            : total < _options.MinGrowthBytes
                ? $"no growth to attribute: {ByteText(_ledger.FaultedBytes)} faulted in, {ByteText(_ledger.ReleasedBytes)} of it given back by munmap/brk/mremap/madvise, {ByteText(total)} still resident (under {ByteText(_options.MinGrowthBytes)})"
                : $"no growth to attribute: anonymous RSS changed by {ByteText(rssGrowth)} (under {ByteText(_options.MinGrowthBytes)}) although {ByteText(total)} of sampled faults stayed mapped (pages freed without munmap or madvise, or swapped out)";
        var ordered = merged.Values.Where(v => v.Bytes > 0).OrderByDescending(v => v.Bytes).ToList();
        var sites = growth
            ? ordered.Take(_options.MaxSites).Select(v => new AttributionSite(v.Frames, v.Bytes, total > 0 ? (double)v.Bytes / total : 0, v.Mapped)).ToList()
            : [];
        var folded = ordered.Select(v => string.Join(";", Enumerable.Reverse(v.Frames).Select(f => FoldedName(f))) + " " + v.Bytes).ToList();
        if (_lost > 0)
        {
            notes.Add($"{_lost} samples lost (ring buffer full): bytes are underestimated");
        }

        if (_otherProcess > 0)
        {
            notes.Add($"{_otherProcess} samples of other processes ignored");
        }

        return new AttributionResult
        {
            Pid = _pid,
            Seconds = seconds,
            Events = _events,
            Bytes = growth ? total : 0,
            Sites = sites,
            FoldedStacks = growth ? folded : [],
            HasGrowth = growth,
            NoGrowthReason = reason,
            FaultedBytes = _ledger.FaultedBytes,
            ReleasedBytes = _ledger.ReleasedBytes,
            MappedBytes = _ledger.MappedBytes,
            UnmappedBytes = _ledger.UnmappedBytes,
            FileBackedBytes = fileBacked,
            RssAnonGrowthBytes = rssGrowth,
            LostEvents = _lost,
            TruncatedStacks = _truncated,
            Threads = threads,
            FaultPeriod = (long)_options.FaultPeriod,
            CpuSecondsPerSecond = seconds > 0 ? cpuSeconds / seconds : 0,
            Notes = notes,
        };
    }

    /// <summary>Folded-stack frame names may not hold ';' or a trailing count: those characters are replaced.</summary>
    private static string FoldedName(AttributionFrame f) => f.Label.Replace(';', ':').Replace('\n', ' ');

    /// <remarks>
    /// Samples are handled in time order across all rings. A record stamped before the moment of the previous drain
    /// is complete in its ring by now; a later one may still have an earlier record of the same thread on its way in
    /// another CPU's ring (a fault before the munmap that frees its page), so it waits for the next drain.
    /// </remarks>
    private void Drain(PerfEventSet events, bool final = false)
    {
        ulong now = (ulong)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
        events.Drain(OnRecord);
        _pending.Sort((a, b) => a.Time.CompareTo(b.Time));
        int handled = 0;
        foreach (PerfSample sample in _pending)
        {
            if (!final && sample.Time > _cut)
            {
                break;
            }

            Handle(sample);
            _pool.Push(sample);
            handled++;
        }

        _pending.RemoveRange(0, handled);
        _cut = now;
    }

    private void OnRecord(ReadOnlySpan<byte> record, PerfEventDescriptor? descriptor)
    {
        if (PerfRecordParser.TryReadLost(record, out ulong lost))
        {
            _lost += (long)lost;
            return;
        }

        if (descriptor is null || _pending.Count >= MaxPendingSamples)
        {
            return;
        }

        PerfSample sample = _pool.Count > 0 ? _pool.Pop() : new PerfSample();
        if (PerfRecordParser.TryParseSample(record, descriptor, sample))
        {
            _pending.Add(sample);
        }
        else
        {
            _pool.Push(sample);
        }
    }

    private void Handle(PerfSample s)
    {
        if (s.Pid != _pid)
        {
            _otherProcess++;
            return;
        }

        _events++;
        switch (s.Kind)
        {
            case MemoryEventKind.PageFault:
                _ledger.Fault(s.Address, SiteOf(s), 4096 * (long)s.Period);
                break;
            case MemoryEventKind.BrkExit when s.Arg0 < 0xfffffffffffff000:
                _ledger.BrkTo(s.Arg0, SiteOf(s));
                break;
            case MemoryEventKind.MmapEnter:
                _ledger.Mapped(SiteOf(s), (long)Math.Min(s.Arg0, long.MaxValue));
                break;
            case MemoryEventKind.MunmapEnter:
                _ledger.Release(s.Arg0, s.Arg1);
                break;
            case MemoryEventKind.MadviseEnter when (s.Arg2 & 0xffffffff) is 4 or 8 or 9 or 24:
                _ledger.Release(s.Arg0, s.Arg1);
                break;
            case MemoryEventKind.MremapEnter:
                if (s.Arg2 < s.Arg1)
                {
                    _ledger.Release(s.Arg0 + s.Arg2, s.Arg1 - s.Arg2);
                }
                else if (s.Arg2 > s.Arg1)
                {
                    _ledger.Mapped(SiteOf(s), (long)(s.Arg2 - s.Arg1));
                }

                _pendingMremap[s.Tid] = (s.Arg0, s.Arg1, s.Arg2);
                break;
            case MemoryEventKind.MremapExit:
                if (_pendingMremap.Remove(s.Tid, out var m) && s.Arg0 < 0xfffffffffffff000)
                {
                    _ledger.Move(m.Address, Math.Min(m.OldLength, m.NewLength), s.Arg0);
                }

                break;
        }
    }

    private int SiteOf(PerfSample s)
    {
        if (!s.HasRegisters)
        {
            return Intern([]);
        }

        var memory = new StackCopyMemory(s.Registers.Sp, s.Stack.AsMemory(0, s.StackLength));
        FrameSymbolizer symbolizer = _view.Symbolizer;
        if (!_unwinder.Unwind(_view.Space, symbolizer.IsDotNet ? symbolizer.IsManagedCode : null, s.Registers, memory, _pcs))
        {
            _truncated++;
        }

        return Intern(_pcs.ToArray());
    }

    private int Intern(ulong[] pcs)
    {
        var key = new StackKey(pcs);
        if (!_sites.TryGetValue(key, out int site))
        {
            site = _siteStacks.Count;
            _sites[key] = site;
            _siteStacks.Add(pcs);
        }

        return site;
    }

    private List<PerfEventSpec> BuildSpecs(bool isDotNet, List<string> notes)
    {
        const ulong sampleBase = Interop.PerfEvent.PERF_SAMPLE_IDENTIFIER | Interop.PerfEvent.PERF_SAMPLE_TID | Interop.PerfEvent.PERF_SAMPLE_TIME;
        const ulong withStack = Interop.PerfEvent.PERF_SAMPLE_REGS_USER | Interop.PerfEvent.PERF_SAMPLE_STACK_USER;
        uint stackBytes = Math.Min(isDotNet ? _options.StackBytes * 2 : _options.StackBytes, 65528u) & ~7u;
        ulong regs = PerfRecordParser.X64RegsMask;
        var specs = new List<PerfEventSpec>
        {
            new(new PerfEventDescriptor(MemoryEventKind.PageFault, sampleBase | Interop.PerfEvent.PERF_SAMPLE_ADDR | Interop.PerfEvent.PERF_SAMPLE_PERIOD | withStack, regs),
                Interop.PerfEvent.PERF_TYPE_SOFTWARE, Interop.PerfEvent.PERF_COUNT_SW_PAGE_FAULTS, Math.Max(1, _options.FaultPeriod), stackBytes),
        };

        TraceFs? tracefs = TraceFs.Find();
        if (tracefs is null)
        {
            notes.Add("tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing): brk/mmap/munmap/mremap/madvise are not seen, so memory given back is not subtracted");
            return specs;
        }

        Add("sys_exit_brk", MemoryEventKind.BrkExit, true, "ret");
        Add("sys_enter_mmap", MemoryEventKind.MmapEnter, true, "len");
        Add("sys_enter_munmap", MemoryEventKind.MunmapEnter, false, "addr", "len");
        Add("sys_enter_mremap", MemoryEventKind.MremapEnter, true, "addr", "old_len", "new_len");
        Add("sys_exit_mremap", MemoryEventKind.MremapExit, false, "ret");
        Add("sys_enter_madvise", MemoryEventKind.MadviseEnter, false, "start", "len_in", "behavior");
        return specs;

        void Add(string name, MemoryEventKind kind, bool stack, params string[] fields)
        {
            TracepointFormat? format = tracefs.TryReadFormat("syscalls", name);
            if (format is null)
            {
                notes.Add($"tracepoint syscalls:{name} is missing (a kernel without CONFIG_FTRACE_SYSCALLS?)");
                return;
            }

            int[] offsets = fields.Select(f => format.TryGetField(f, out int o, out _) ? o : -1).ToArray();
            var descriptor = new PerfEventDescriptor(kind, sampleBase | Interop.PerfEvent.PERF_SAMPLE_RAW | (stack ? withStack : 0), stack ? regs : 0,
                offsets.ElementAtOrDefault(0) is var a0 && offsets.Length > 0 ? a0 : -1,
                offsets.Length > 1 ? offsets[1] : -1,
                offsets.Length > 2 ? offsets[2] : -1);
            specs.Add(new PerfEventSpec(descriptor, Interop.PerfEvent.PERF_TYPE_TRACEPOINT, (ulong)format.Id, 1, stack ? stackBytes : 0));
        }
    }

    /// <summary>A zombie (exited, not yet reaped) has a status file but no memory and no threads to sample.</summary>
    private static bool IsGone(ProcStatus status) => status.State is 'Z' or 'X';

    private static ulong? HeapEnd(List<TargetMapping> mappings)
    {
        foreach (TargetMapping m in mappings)
        {
            if (m.Path == "[heap]")
            {
                return m.End;
            }
        }

        return null;
    }

    private static bool IsFileBacked(List<TargetMapping> mappings, ulong page)
    {
        foreach (TargetMapping m in mappings)
        {
            if (page >= m.Start && page < m.End)
            {
                return m.FileBacked;
            }
        }

        return false;
    }

    internal static int[] OnlineCpus(ProcFileSystem fs)
    {
        var cpus = new List<int>();
        string text;
        try
        {
            text = File.ReadAllText(fs.SysPath("devices/system/cpu/online")).Trim();
        }
        catch (IOException)
        {
            return [.. Enumerable.Range(0, Environment.ProcessorCount)];
        }

        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] range = part.Split('-');
            if (int.TryParse(range[0], out int first))
            {
                int last = range.Length > 1 && int.TryParse(range[1], out int l) ? l : first;
                for (int c = first; c <= last && c < 4096; c++)
                {
                    cpus.Add(c);
                }
            }
        }

        return cpus.Count > 0 ? [.. cpus] : [.. Enumerable.Range(0, Environment.ProcessorCount)];
    }

    internal static string ByteText(long bytes)
    {
        double b = Math.Abs(bytes);
        string sign = bytes < 0 ? "-" : "";
        return b >= 1 << 30 ? $"{sign}{b / (1 << 30):0.0} GiB" : b >= 1 << 20 ? $"{sign}{b / (1 << 20):0.0} MiB" : b >= 1024 ? $"{sign}{b / 1024:0.0} KiB" : $"{sign}{b:0} B";
    }
}

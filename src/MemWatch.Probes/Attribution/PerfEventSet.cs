using System.Globalization;
using System.Runtime.InteropServices;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// The perf events of one attribution capture: for every thread of the target and every online CPU, one event per
/// <see cref="PerfEventSpec"/>, all of a CPU writing into that CPU's one ring buffer (PERF_EVENT_IOC_SET_OUTPUT).
/// Threads that exist when the capture starts get their own events (the task directory is rescanned until no new
/// thread appears); threads they create later inherit them (<c>inherit</c> + <c>inherit_thread</c>, Linux 5.13:
/// only CLONE_THREAD children, so a forked child process is not followed). Per-CPU events are what allows both
/// inheritance and a mapped buffer (the kernel refuses to mmap an inherited per-task event).
/// </summary>
internal sealed class PerfEventSet : IDisposable
{
    private readonly int _pid;
    private readonly IReadOnlyList<PerfEventSpec> _specs;
    private readonly int[] _cpus;
    private readonly int _ringPages;
    private readonly List<int> _fds = [];
    private readonly Dictionary<ulong, PerfEventDescriptor> _byId = [];
    private readonly HashSet<int> _threads = [];
    private readonly (int Fd, Interop.PerfMmapRegion? Ring)[] _rings;
    private byte[] _scratch = new byte[64 * 1024];

    public PerfEventSet(int pid, IReadOnlyList<PerfEventSpec> specs, int[] cpus, int ringPages)
    {
        _pid = pid;
        _specs = specs;
        _cpus = cpus;
        _ringPages = ringPages;
        _rings = new (int, Interop.PerfMmapRegion?)[cpus.Length * 2];
        Array.Fill(_rings, (-1, null));
    }

    /// <summary>Events that could not be opened (a tracepoint missing from this kernel), with the reason.</summary>
    public List<string> Notes { get; } = [];

    public int ThreadCount => _threads.Count;

    public int EventCount => _fds.Count;

    /// <summary>Bytes of each CPU's data area (after any shrinking the locked-memory limit forced).</summary>
    public int RingBytes { get; private set; }

    /// <summary>
    /// Opens events for every thread not yet covered; call until it returns 0. Returns the number of new threads.
    /// Throws <see cref="PerfAccessException"/> when the kernel refuses, <see cref="InvalidOperationException"/> when the
    /// process is gone.
    /// </summary>
    public int AddNewThreads(ProcFileSystem fs)
    {
        int added = 0;
        foreach (int tid in ListThreads(fs))
        {
            if (_threads.Contains(tid))
            {
                continue;
            }

            if (OpenThread(tid))
            {
                _threads.Add(tid);
                added++;
            }
        }

        return added;
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for a ring to pass its watermark (a quarter full).</summary>
    public void Wait(int timeoutMs)
    {
        Span<Interop.Libc.PollFd> fds = stackalloc Interop.Libc.PollFd[_rings.Length];
        int n = 0;
        foreach ((int fd, Interop.PerfMmapRegion? ring) in _rings)
        {
            if (ring is not null)
            {
                fds[n++] = new Interop.Libc.PollFd { Fd = fd, Events = Interop.Libc.POLLIN };
            }
        }

        if (n == 0)
        {
            Thread.Sleep(timeoutMs);
            return;
        }

        Interop.Libc.Poll(fds[..n], timeoutMs);
    }

    /// <summary>Calls <paramref name="onRecord"/> for every record written since the last drain, then frees the space.</summary>
    public void Drain(RecordHandler onRecord)
    {
        Span<byte> header = stackalloc byte[8];
        foreach ((int _, Interop.PerfMmapRegion? ring) in _rings)
        {
            if (ring is null)
            {
                continue;
            }

            ulong head = ring.ReadHead();
            ulong tail = ring.ReadTail();
            while (tail + 8 <= head)
            {
                ring.Copy(tail, header);
                int size = BitConverter.ToUInt16(header[6..]);
                if (size < 8 || tail + (ulong)size > head)
                {
                    break;
                }

                if (_scratch.Length < size)
                {
                    _scratch = new byte[size];
                }

                Span<byte> record = _scratch.AsSpan(0, size);
                ring.Copy(tail, record);
                PerfEventDescriptor? descriptor = null;
                if (PerfRecordParser.TryReadIdentifier(record, out ulong id))
                {
                    _byId.TryGetValue(id, out descriptor);
                }

                onRecord(record, descriptor);
                tail += (ulong)size;
            }

            ring.WriteTail(head);
        }
    }

    public void Dispose()
    {
        foreach (int fd in _fds)
        {
            Interop.Libc.Close(fd);
        }

        _fds.Clear();
        for (int i = 0; i < _rings.Length; i++)
        {
            _rings[i].Ring?.Dispose();
            _rings[i] = (-1, null);
        }
    }

    private bool OpenThread(int tid)
    {
        var opened = new List<int>();
        foreach (PerfEventSpec spec in _specs)
        {
            for (int c = 0; c < _cpus.Length; c++)
            {
                Interop.PerfEventAttr attr = Attr(spec);
                int fd = Interop.PerfEvent.Open(ref attr, tid, _cpus[c]);
                if (fd < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.ESRCH)
                    {
                        // The thread exited between the listing and the open: nothing to sample.
                        foreach (int f in opened)
                        {
                            _fds.Remove(f);
                            Interop.Libc.Close(f);
                        }

                        return false;
                    }

                    throw new PerfAccessException(PerfAccess.DescribeOpenFailure(errno, _pid, spec.Descriptor.Kind));
                }

                _fds.Add(fd);
                opened.Add(fd);
                if (Interop.PerfEvent.TryGetId(fd, out ulong id))
                {
                    _byId[id] = spec.Descriptor;
                }

                AttachToRing((c * 2) + spec.Ring, fd);
            }
        }

        return true;
    }

    private void AttachToRing(int cpuIndex, int fd)
    {
        if (_rings[cpuIndex].Ring is null)
        {
            // perf_event_mlock_kb (516 KiB per CPU by default) bounds what a process without CAP_IPC_LOCK may map:
            // halve the buffer until it fits.
            int pages = _ringPages;
            while (true)
            {
                Interop.PerfMmapRegion? ring = Interop.PerfMmapRegion.TryMap(fd, pages, out int errno);
                if (ring is not null)
                {
                    _rings[cpuIndex] = (fd, ring);
                    RingBytes = RingBytes == 0 ? ring.DataSize : Math.Min(RingBytes, ring.DataSize);
                    return;
                }

                if (errno != Errno.EPERM || pages <= 8)
                {
                    throw new PerfAccessException($"cannot map a perf ring buffer of {pages} pages (errno {errno}): raise perf_event_mlock_kb or grant CAP_IPC_LOCK");
                }

                pages /= 2;
            }
        }

        if (Interop.PerfEvent.Ioctl(fd, Interop.PerfEvent.PERF_EVENT_IOC_SET_OUTPUT, _rings[cpuIndex].Fd) != 0)
        {
            throw new PerfAccessException($"PERF_EVENT_IOC_SET_OUTPUT failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    private Interop.PerfEventAttr Attr(PerfEventSpec spec) => new()
    {
        Type = spec.Type,
        Config = spec.Config,
        SamplePeriod = spec.Period,
        SampleType = spec.Descriptor.SampleType,
        Flags = Interop.PerfEvent.FlagInherit | Interop.PerfEvent.FlagInheritThread | Interop.PerfEvent.FlagExcludeHv
            | Interop.PerfEvent.FlagExcludeCallchainKernel | Interop.PerfEvent.FlagWatermark | Interop.PerfEvent.FlagUseClockId | spec.ExtraFlags,
        ClockId = Interop.PerfEvent.CLOCK_MONOTONIC,
        SampleRegsUser = spec.Descriptor.RegsMask,
        SampleStackUser = spec.StackBytes,
        // wakeup_watermark (the union with wakeup_events): poll wakes the reader when a ring is a quarter full.
        WakeupEvents = (uint)(RingBytes > 0 ? RingBytes / 4 : _ringPages * Environment.SystemPageSize / 4),
    };

    private List<int> ListThreads(ProcFileSystem fs)
    {
        var list = new List<int>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories(fs.ProcessPath(_pid, "task")))
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                {
                    list.Add(tid);
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            throw new InvalidOperationException($"process {_pid} exited");
        }

        return list;
    }

    public delegate void RecordHandler(ReadOnlySpan<byte> record, PerfEventDescriptor? descriptor);
}

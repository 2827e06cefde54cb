using System.Diagnostics.CodeAnalysis;
using System.Text;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Identity, memory and signal fields of <c>/proc/[pid]/status</c> (proc_pid_status(5)).
/// </summary>
/// <remarks>
/// Lines look like <c>VmRSS:\t   11500 kB</c>. Memory values are bytes (the kernel prints kB) and null when
/// their line is absent: kernel threads and zombies have no mm, so no Vm*/Rss* lines. Unknown lines are ignored.
/// <c>Name</c> is unescaped: status prints a newline in the name as <c>\n</c> and a backslash as <c>\\</c>.
/// </remarks>
public sealed record ProcStatus
{
    /// <summary><c>Name</c>: the command name (comm), at most 15 bytes for most tasks, longer for workqueue workers.</summary>
    public required string Name { get; init; }

    /// <summary><c>State</c>: the state letter (R, S, D, T, t, X, Z, P, I).</summary>
    public required char State { get; init; }

    /// <summary><c>Tgid</c>: the thread group (process) id.</summary>
    public required int Tgid { get; init; }

    /// <summary><c>Pid</c>: the id of the task whose status this is (the main thread for /proc/[pid]/status).</summary>
    public required int Pid { get; init; }

    /// <summary><c>PPid</c>: the parent's process id; 0 for pid 1 and kthreadd.</summary>
    public required int PPid { get; init; }

    /// <summary>First field of <c>Uid</c>.</summary>
    public required uint RealUid { get; init; }

    /// <summary>Second field of <c>Uid</c>.</summary>
    public required uint EffectiveUid { get; init; }

    /// <summary>First field of <c>Gid</c>.</summary>
    public required uint RealGid { get; init; }

    /// <summary>Second field of <c>Gid</c>.</summary>
    public required uint EffectiveGid { get; init; }

    /// <summary>
    /// <c>NSpid</c>: the process id in each nested pid namespace, outermost (the reader's) first, innermost last;
    /// empty on kernels before 4.1, which lack the line.
    /// </summary>
    public required IReadOnlyList<int> NSpids { get; init; }

    /// <summary>The last <c>NSpid</c> entry: the pid the process sees for itself inside its container.</summary>
    public int? InnermostNSpid => NSpids.Count > 0 ? NSpids[^1] : null;

    /// <summary><c>VmPeak</c>: peak virtual size.</summary>
    public ulong? VmPeakBytes { get; init; }

    /// <summary><c>VmSize</c>: virtual size.</summary>
    public ulong? VmSizeBytes { get; init; }

    /// <summary><c>VmLck</c>: mlocked memory.</summary>
    public ulong? VmLckBytes { get; init; }

    /// <summary><c>VmPin</c>: pinned memory.</summary>
    public ulong? VmPinBytes { get; init; }

    /// <summary><c>VmHWM</c>: peak resident set size.</summary>
    public ulong? VmHwmBytes { get; init; }

    /// <summary><c>VmRSS</c>: resident set size, <c>RssAnon + RssFile + RssShmem</c>.</summary>
    public ulong? VmRssBytes { get; init; }

    /// <summary><c>RssAnon</c>: resident anonymous memory.</summary>
    public ulong? RssAnonBytes { get; init; }

    /// <summary><c>RssFile</c>: resident file mappings.</summary>
    public ulong? RssFileBytes { get; init; }

    /// <summary><c>RssShmem</c>: resident shared memory (System V, tmpfs, shared anonymous).</summary>
    public ulong? RssShmemBytes { get; init; }

    /// <summary><c>VmData</c>: private writable non-stack mappings (the heaps live here).</summary>
    public ulong? VmDataBytes { get; init; }

    /// <summary><c>VmStk</c>: the main thread's stack.</summary>
    public ulong? VmStkBytes { get; init; }

    /// <summary><c>VmExe</c>: text segment.</summary>
    public ulong? VmExeBytes { get; init; }

    /// <summary><c>VmLib</c>: shared library code.</summary>
    public ulong? VmLibBytes { get; init; }

    /// <summary><c>VmPTE</c>: page tables.</summary>
    public ulong? VmPteBytes { get; init; }

    /// <summary><c>VmSwap</c>: swapped-out anonymous memory (shmem swap not included).</summary>
    public ulong? VmSwapBytes { get; init; }

    /// <summary><c>HugetlbPages</c>: hugetlbfs pages mapped.</summary>
    public ulong? HugetlbPagesBytes { get; init; }

    /// <summary><c>Threads</c>: number of threads.</summary>
    public required int Threads { get; init; }

    /// <summary><c>SigBlk</c>: blocked signals (bit n-1 is signal n).</summary>
    public required ulong SigBlk { get; init; }

    /// <summary><c>SigIgn</c>: ignored signals.</summary>
    public required ulong SigIgn { get; init; }

    /// <summary><c>SigCgt</c>: caught signals.</summary>
    public required ulong SigCgt { get; init; }

    /// <summary><c>Seccomp</c>: 0 none, 1 strict, 2 filter; null on kernels built without CONFIG_SECCOMP.</summary>
    public int? Seccomp { get; init; }

    /// <summary><c>Seccomp_filters</c>: how many filters are attached (kernel 5.9+); null where the line is absent.</summary>
    public int? SeccompFilters { get; init; }

    /// <summary><c>TracerPid</c>: the PID tracing this task, 0 when untraced; null where the line is absent.</summary>
    public int? TracerPid { get; init; }

    /// <summary><c>CapEff</c>: the effective capability set (bit n = capability n); null where the line is absent.</summary>
    public ulong? CapEff { get; init; }

    /// <summary><c>x86_Thread_features</c> lists <c>shstk</c>: the user shadow stack is on (x86-64, kernel 6.6+).</summary>
    public bool ShadowStackEnabled { get; init; }

    /// <summary>Reads <c>/proc/[pid]/task/[tid]/status</c>, the status of one thread (seccomp and masks are per thread); false when gone.</summary>
    /// <exception cref="ProcParseException">The file is malformed.</exception>
    public static bool TryReadThread(ProcFileSystem fs, int pid, int tid, FileBuffer buffer, [NotNullWhen(true)] out ProcStatus? value)
    {
        string path = fs.ThreadPath(pid, tid, "status");
        if (!buffer.TryLoadSingleShow(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    /// <summary>
    /// The <c>Tgid</c>, <c>Threads</c> and <c>Seccomp</c> fields alone: what the remote-call engine needs at every stop of
    /// a thread (whose process it is in, how many threads that process has, its seccomp mode), without parsing the rest.
    /// </summary>
    /// <exception cref="ProcParseException">One of the three lines is malformed, or Tgid or Threads is missing.</exception>
    internal static ThreadStopFields ParseStopFields(ReadOnlySpan<byte> text, string source)
    {
        int? tgid = null, threads = null, seccomp = null;
        var reader = new LineReader(text);
        while (seccomp is null && reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            // Tgid comes before Threads, Threads before Seccomp (fs/proc/array.c); Seccomp may be absent.
            if (tgid is null && line.StartsWith("Tgid:"u8))
            {
                tgid = Int(line["Tgid:"u8.Length..], source, reader.LineNumber, "Tgid");
            }
            else if (threads is null && line.StartsWith("Threads:"u8))
            {
                threads = Int(line["Threads:"u8.Length..], source, reader.LineNumber, "Threads");
            }
            else if (line.StartsWith("Seccomp:"u8))
            {
                seccomp = SeccompMode(line["Seccomp:"u8.Length..], source, reader.LineNumber);
            }
        }

        return new ThreadStopFields(tgid ?? throw Missing(source, "Tgid"), threads ?? throw Missing(source, "Threads"), seccomp);
    }

    /// <summary>Reads <c>/proc/[pid]/status</c>; false when the process is gone.</summary>
    /// <exception cref="ProcParseException">The file is malformed.</exception>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out ProcStatus? value)
    {
        string path = fs.ProcessPath(pid, "status");
        if (!buffer.TryLoadSingleShow(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    /// <summary>Parses the contents of a status file. Pure.</summary>
    /// <exception cref="ProcParseException">Malformed, truncated, or missing a line every kernel prints.</exception>
    public static ProcStatus Parse(ReadOnlySpan<byte> text, string source)
    {
        ProcText.RequireNewlineTerminated(text, source);
        string? name = null;
        char state = '\0';
        int? tgid = null, pid = null, ppid = null, threads = null;
        uint ruid = 0, euid = 0, rgid = 0, egid = 0;
        bool haveUid = false, haveGid = false;
        ulong? sigBlk = null, sigIgn = null, sigCgt = null;
        int? seccomp = null, seccompFilters = null, tracerPid = null;
        ulong? capEff = null;
        bool shadowStack = false;
        int[] nspids = [];
        ulong? vmPeak = null, vmSize = null, vmLck = null, vmPin = null, vmHwm = null, vmRss = null, rssAnon = null,
            rssFile = null, rssShmem = null, vmData = null, vmStk = null, vmExe = null, vmLib = null, vmPte = null,
            vmSwap = null, hugetlb = null;

        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            int n = reader.LineNumber;
            if (!ProcText.TrySplitKeyValue(line, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value))
            {
                throw new ProcParseException(source, n, $"expected 'Key:<tab>value', got '{ByteParsing.Excerpt(line)}'");
            }

            switch (key)
            {
                case var k when k.SequenceEqual("Name"u8): name = ParseName(value, source, n); break;
                case var k when k.SequenceEqual("State"u8): state = ParseState(value, source, n); break;
                case var k when k.SequenceEqual("Tgid"u8): tgid = Int(value, source, n, "Tgid"); break;
                case var k when k.SequenceEqual("Pid"u8): pid = Int(value, source, n, "Pid"); break;
                case var k when k.SequenceEqual("PPid"u8): ppid = Int(value, source, n, "PPid"); break;
                case var k when k.SequenceEqual("Uid"u8): (ruid, euid) = Ids(value, source, n, "Uid"); haveUid = true; break;
                case var k when k.SequenceEqual("Gid"u8): (rgid, egid) = Ids(value, source, n, "Gid"); haveGid = true; break;
                case var k when k.SequenceEqual("NSpid"u8): nspids = ParseNSpid(value, source, n); break;
                case var k when k.SequenceEqual("VmPeak"u8): vmPeak = Kb(value, source, n, "VmPeak"); break;
                case var k when k.SequenceEqual("VmSize"u8): vmSize = Kb(value, source, n, "VmSize"); break;
                case var k when k.SequenceEqual("VmLck"u8): vmLck = Kb(value, source, n, "VmLck"); break;
                case var k when k.SequenceEqual("VmPin"u8): vmPin = Kb(value, source, n, "VmPin"); break;
                case var k when k.SequenceEqual("VmHWM"u8): vmHwm = Kb(value, source, n, "VmHWM"); break;
                case var k when k.SequenceEqual("VmRSS"u8): vmRss = Kb(value, source, n, "VmRSS"); break;
                case var k when k.SequenceEqual("RssAnon"u8): rssAnon = Kb(value, source, n, "RssAnon"); break;
                case var k when k.SequenceEqual("RssFile"u8): rssFile = Kb(value, source, n, "RssFile"); break;
                case var k when k.SequenceEqual("RssShmem"u8): rssShmem = Kb(value, source, n, "RssShmem"); break;
                case var k when k.SequenceEqual("VmData"u8): vmData = Kb(value, source, n, "VmData"); break;
                case var k when k.SequenceEqual("VmStk"u8): vmStk = Kb(value, source, n, "VmStk"); break;
                case var k when k.SequenceEqual("VmExe"u8): vmExe = Kb(value, source, n, "VmExe"); break;
                case var k when k.SequenceEqual("VmLib"u8): vmLib = Kb(value, source, n, "VmLib"); break;
                case var k when k.SequenceEqual("VmPTE"u8): vmPte = Kb(value, source, n, "VmPTE"); break;
                case var k when k.SequenceEqual("VmSwap"u8): vmSwap = Kb(value, source, n, "VmSwap"); break;
                case var k when k.SequenceEqual("HugetlbPages"u8): hugetlb = Kb(value, source, n, "HugetlbPages"); break;
                case var k when k.SequenceEqual("Threads"u8): threads = Int(value, source, n, "Threads"); break;
                case var k when k.SequenceEqual("SigBlk"u8): sigBlk = Hex(value, source, n, "SigBlk"); break;
                case var k when k.SequenceEqual("SigIgn"u8): sigIgn = Hex(value, source, n, "SigIgn"); break;
                case var k when k.SequenceEqual("SigCgt"u8): sigCgt = Hex(value, source, n, "SigCgt"); break;
                case var k when k.SequenceEqual("Seccomp"u8): seccomp = SeccompMode(value, source, n); break;
                case var k when k.SequenceEqual("Seccomp_filters"u8): seccompFilters = Int(value, source, n, "Seccomp_filters"); break;
                case var k when k.SequenceEqual("TracerPid"u8): tracerPid = Int(value, source, n, "TracerPid"); break;
                case var k when k.SequenceEqual("CapEff"u8): capEff = Hex(value, source, n, "CapEff"); break;
                case var k when k.SequenceEqual("x86_Thread_features"u8): shadowStack = HasWord(value, "shstk"u8); break;
                default: break;
            }
        }

        return new ProcStatus
        {
            Name = name ?? throw Missing(source, "Name"),
            State = state != '\0' ? state : throw Missing(source, "State"),
            Tgid = tgid ?? throw Missing(source, "Tgid"),
            Pid = pid ?? throw Missing(source, "Pid"),
            PPid = ppid ?? throw Missing(source, "PPid"),
            RealUid = haveUid ? ruid : throw Missing(source, "Uid"),
            EffectiveUid = euid,
            RealGid = haveGid ? rgid : throw Missing(source, "Gid"),
            EffectiveGid = egid,
            NSpids = nspids,
            VmPeakBytes = vmPeak,
            VmSizeBytes = vmSize,
            VmLckBytes = vmLck,
            VmPinBytes = vmPin,
            VmHwmBytes = vmHwm,
            VmRssBytes = vmRss,
            RssAnonBytes = rssAnon,
            RssFileBytes = rssFile,
            RssShmemBytes = rssShmem,
            VmDataBytes = vmData,
            VmStkBytes = vmStk,
            VmExeBytes = vmExe,
            VmLibBytes = vmLib,
            VmPteBytes = vmPte,
            VmSwapBytes = vmSwap,
            HugetlbPagesBytes = hugetlb,
            Threads = threads ?? throw Missing(source, "Threads"),
            SigBlk = sigBlk ?? throw Missing(source, "SigBlk"),
            SigIgn = sigIgn ?? throw Missing(source, "SigIgn"),
            SigCgt = sigCgt ?? throw Missing(source, "SigCgt"),
            Seccomp = seccomp,
            SeccompFilters = seccompFilters,
            TracerPid = tracerPid,
            CapEff = capEff,
            ShadowStackEnabled = shadowStack,
        };
    }

    private static bool HasWord(ReadOnlySpan<byte> value, ReadOnlySpan<byte> word)
    {
        ReadOnlySpan<byte> rest = value;
        for (ReadOnlySpan<byte> f = ByteParsing.NextField(ref rest); !f.IsEmpty; f = ByteParsing.NextField(ref rest))
        {
            if (f.SequenceEqual(word))
            {
                return true;
            }
        }

        return false;
    }

    private static ProcParseException Missing(string source, string key)
        => new(source, 0, $"no '{key}:' line");

    private static ProcParseException Bad(string source, int line, string key, ReadOnlySpan<byte> value)
        => new(source, line, $"bad {key} value '{ByteParsing.Excerpt(value)}'");

    private static string ParseName(ReadOnlySpan<byte> value, string source, int line)
    {
        // The kernel writes "Name:\t" then the escaped name, which may itself start or end with spaces.
        if (value.IsEmpty || value[0] != (byte)'\t')
        {
            throw Bad(source, line, "Name", value);
        }

        value = value[1..];
        if (value.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(value);
        }

        Span<byte> unescaped = value.Length <= 256 ? stackalloc byte[value.Length] : new byte[value.Length];
        int length = 0;
        for (int i = 0; i < value.Length; i++)
        {
            byte b = value[i];
            if (b == (byte)'\\' && i + 1 < value.Length && value[i + 1] is (byte)'n' or (byte)'\\')
            {
                b = value[++i] == (byte)'n' ? (byte)'\n' : (byte)'\\';
            }

            unescaped[length++] = b;
        }

        return Encoding.UTF8.GetString(unescaped[..length]);
    }

    private static char ParseState(ReadOnlySpan<byte> value, string source, int line)
    {
        // "S (sleeping)": the letter, then a description that is for people.
        ReadOnlySpan<byte> rest = value;
        ReadOnlySpan<byte> letter = ByteParsing.NextField(ref rest);
        if (letter.Length != 1 || !char.IsAsciiLetter((char)letter[0]))
        {
            throw Bad(source, line, "State", value);
        }

        return (char)letter[0];
    }

    private static int Int(ReadOnlySpan<byte> value, string source, int line, string key)
        => ProcText.TryParseInt32(ByteParsing.TrimSpaces(value), out int v) ? v : throw Bad(source, line, key, value);

    private static int SeccompMode(ReadOnlySpan<byte> value, string source, int line)
        => Int(value, source, line, "Seccomp") is int mode and >= 0 and <= 2 ? mode : throw Bad(source, line, "Seccomp", value);

    private static ulong Hex(ReadOnlySpan<byte> value, string source, int line, string key)
        => ByteParsing.TryParseHex(ByteParsing.TrimSpaces(value), out ulong v) ? v : throw Bad(source, line, key, value);

    private static ulong Kb(ReadOnlySpan<byte> value, string source, int line, string key)
        => ByteParsing.TryParseKbValue(value, out ulong bytes, out bool hadKb) && hadKb ? bytes : throw Bad(source, line, key, value);

    private static (uint Real, uint Effective) Ids(ReadOnlySpan<byte> value, string source, int line, string key)
    {
        // "real effective saved filesystem"; all four must be numbers, the first two are kept.
        ReadOnlySpan<byte> rest = value;
        Span<uint> ids = stackalloc uint[4];
        for (int i = 0; i < ids.Length; i++)
        {
            if (!ProcText.TryParseUInt32(ByteParsing.NextField(ref rest), out ids[i]))
            {
                throw Bad(source, line, key, value);
            }
        }

        return ByteParsing.NextField(ref rest).IsEmpty ? (ids[0], ids[1]) : throw Bad(source, line, key, value);
    }

    private static int[] ParseNSpid(ReadOnlySpan<byte> value, string source, int line)
    {
        ReadOnlySpan<byte> rest = value;
        int count = 0;
        while (!ByteParsing.NextField(ref rest).IsEmpty)
        {
            count++;
        }

        if (count == 0)
        {
            throw Bad(source, line, "NSpid", value);
        }

        var pids = new int[count];
        rest = value;
        for (int i = 0; i < count; i++)
        {
            if (!ProcText.TryParseInt32(ByteParsing.NextField(ref rest), out pids[i]) || pids[i] <= 0)
            {
                throw Bad(source, line, "NSpid", value);
            }
        }

        return pids;
    }
}

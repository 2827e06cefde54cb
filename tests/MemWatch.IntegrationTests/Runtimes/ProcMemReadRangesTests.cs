using System.Globalization;
using MemWatch.Probes.ProcFs;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// <see cref="ProcMem.ReadRanges"/> (process_vm_readv by the thousand) on a real process: ranges running off the end of
/// a mapping into unmapped pages are reported unread and the ranges after them still read, each slot holding what a
/// pread of /proc/PID/mem gives; a process that exited reads nothing; a proc filesystem numbering processes otherwise
/// than this process's namespace is read through its own files, not by PID.
/// </summary>
public sealed class ProcMemReadRangesTests
{
    private const int Size = 40;
    private const ulong Page = 4096;

    [Fact]
    public void ReadRanges_RangesRunningOffAMapping_UnmappedOnesUnreadTheRestRead()
    {
        using Workload w = Workload.Start("live_bytes.c");
        (ulong start, ulong end) = MappingBeforeAGap(w.Pid);
        Assert.True(ProcMem.TryOpen(ProcFileSystem.Default, w.Pid, out ProcMem? memory));
        using (memory)
        {
            // Page 0 is never mapped (the kernel fails the first range: EFAULT); end - 20 holds 20 mapped bytes and 20
            // past the mapping (the kernel stops part-way through it); end and the page after it are not mapped.
            ulong[] addresses = [0, start, end - Size, end - 20, end, end + Page, end - Page, start + 64];
            bool[] expected = [false, true, true, false, false, false, true, true];
            byte[] data = new byte[addresses.Length * Size];
            bool[] read = new bool[addresses.Length];
            memory.ReadRanges(addresses, Size, data, read);

            Assert.Equal(expected, read);
            byte[] one = new byte[Size];
            for (int i = 0; i < addresses.Length; i++)
            {
                Assert.Equal(expected[i], memory.TryRead(addresses[i], one));
                if (read[i])
                {
                    Assert.Equal(one, data.AsSpan(i * Size, Size).ToArray());
                }
            }
        }
    }

    [Fact]
    public void ReadRanges_ProcessExited_NothingRead()
    {
        Workload w = Workload.Start("live_bytes.c");
        (ulong start, _) = MappingBeforeAGap(w.Pid);
        Assert.True(ProcMem.TryOpen(ProcFileSystem.Default, w.Pid, out ProcMem? memory));
        using (memory)
        {
            bool[] read = new bool[2];
            memory.ReadRanges([start, start + Page], Size, new byte[2 * Size], read);
            Assert.Equal([true, true], read);

            w.Dispose();
            memory.ReadRanges([start, start + Page], Size, new byte[2 * Size], read);
            Assert.Equal([false, false], read);
        }
    }

    [Fact]
    public void ReadRanges_ProcNumberingProcessesOtherwise_ReadsTheProcessItNames()
    {
        using Workload meant = Workload.Start("live_bytes.c");
        using Workload other = Workload.Start("live_bytes.c");
        (ulong start, ulong end) = MappingBeforeAGap(meant.Pid);

        // A proc filesystem of another PID namespace, as a host's /proc mounted in a container: there, the meant
        // process has the number this namespace gives the other one.
        string root = Directory.CreateTempSubdirectory("memwatch-procmem-").FullName;
        try
        {
            File.CreateSymbolicLink(Path.Combine(root, other.Pid.ToString(CultureInfo.InvariantCulture)), $"/proc/{meant.Pid}");
            File.CreateSymbolicLink(Path.Combine(root, "self"), "1");
            Assert.True(ProcMem.TryOpen(new ProcFileSystem(root), other.Pid, out ProcMem? memory));
            using (memory)
            {
                ulong[] addresses = [start, end - Size];
                byte[] data = new byte[addresses.Length * Size];
                bool[] read = new bool[addresses.Length];
                memory.ReadRanges(addresses, Size, data, read);

                Assert.Equal([true, true], read);
                byte[] one = new byte[Size];
                Assert.True(memory.TryRead(end - Size, one));
                Assert.Equal(one, data[Size..]);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A readable mapping of at least two pages with at least two unmapped pages after it.</summary>
    internal static (ulong Start, ulong End) MappingBeforeAGap(int pid)
    {
        var mappings = File.ReadAllLines($"/proc/{pid}/maps").Select(line =>
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] range = f[0].Split('-');
            return (Start: ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                End: ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                Readable: f[1][0] == 'r', Special: f.Length > 5 && f[5].StartsWith('[') && f[5] is not "[heap]" and not "[stack]");
        }).ToList();
        for (int i = 0; i + 1 < mappings.Count; i++)
        {
            var m = mappings[i];
            if (m.Readable && !m.Special && m.End - m.Start >= 2 * Page && mappings[i + 1].Start - m.End >= 2 * Page)
            {
                return (m.Start, m.End);
            }
        }

        throw new InvalidOperationException($"no readable mapping followed by a gap in /proc/{pid}/maps");
    }
}

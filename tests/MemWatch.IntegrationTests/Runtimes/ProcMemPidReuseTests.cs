using MemWatch.Probes.ProcFs;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// process_vm_readv names a process by PID: <see cref="ProcMem.ReadRanges"/> on the memory of a process that exited
/// reads nothing from the process that was given its PID afterwards (clone3 with set_tid), though the newcomer has those
/// addresses mapped.
/// </summary>
public sealed class ProcMemPidReuseTests
{
    private const int Size = 40;

    [Fact]
    public void ReadRanges_PidTakenByAnotherProcess_ReadsNothingOfTheNewcomer()
    {
        Workload first = Workload.Start("live_bytes.c");
        int pid = first.Pid;
        Assert.True(ProcMem.TryOpen(ProcFileSystem.Default, pid, out ProcMem? meant));
        using (meant)
        {
            ulong firstStart = PidReuse.StartTicks(pid);
            first.Dispose();
            using Workload? second = PidReuse.StartWithPid(pid, firstStart, "live_bytes.c");
            Assert.NotNull(second);
            (ulong start, ulong end) = ProcMemReadRangesTests.MappingBeforeAGap(pid);
            ulong[] addresses = [start, start + 4096, end - Size];

            bool[] read = new bool[addresses.Length];
            meant.ReadRanges(addresses, Size, new byte[addresses.Length * Size], read);
            Assert.Equal([false, false, false], read);

            // The newcomer's own handle reads the same addresses.
            Assert.True(ProcMem.TryOpen(ProcFileSystem.Default, pid, out ProcMem? own));
            using (own)
            {
                own.ReadRanges(addresses, Size, new byte[addresses.Length * Size], read);
                Assert.Equal([true, true, true], read);
            }
        }
    }
}

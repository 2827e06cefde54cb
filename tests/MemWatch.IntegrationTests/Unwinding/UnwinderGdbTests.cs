using MemWatch.Probes.Unwinding;

namespace MemWatch.IntegrationTests.Unwinding;

/// <summary>
/// The unwinder against gdb, frame by frame, on real threads parked in nanosleep (15 recursive frames deep, and in a
/// signal handler), futex, epoll_wait, read, on a malloc'd pthread_attr_setstack stack and inside malloc_stats():
/// built with -O2 with and without frame pointers and with -z now.
/// </summary>
public sealed class UnwinderGdbTests
{
    [Fact]
    public void CxxThreadsUnwindLikeGdb()
    {
        using UnwindTarget target = UnwindTarget.Start(UnwindTarget.CxxSource, "-O2", "");
        CompareWithGdb(target, ["main", "lambda", "catch", "virtual"], "C++ -O2");
    }

    [Theory]
    [InlineData("-O2 -fomit-frame-pointer")]
    [InlineData("-O2 -fno-omit-frame-pointer")]
    [InlineData("-O2 -Wl,-z,now")]
    public void EveryParkedThreadUnwindsLikeGdb(string flags)
    {
        using UnwindTarget target = UnwindTarget.Start(flags);
        CompareWithGdb(target, UnwindTarget.ParkedThreads, flags);
    }

    /// <summary>
    /// Each thread, stopped with ptrace, unwound twice: over the live process and over a copy of its stack alone (what a
    /// perf sample carries); both must give gdb's return addresses, frame by frame.
    /// </summary>
    private static void CompareWithGdb(UnwindTarget target, string[] threads, string flags)
    {
        Dictionary<int, List<(ulong Pc, bool SigTramp, string Name)>> gdb = GdbBacktrace.Read(target.Pid);
        UnwindAddressSpace space = target.AddressSpace(target.Symbols());
        var unwinder = new StackUnwinder();
        foreach (string name in threads)
        {
            int tid = target.Tid(name);
            UnwindResult result;
            UnwindResult fromCopy;
            using (StoppedThread stopped = StoppedThread.Stop(tid))
            {
                var live = new LiveProcessMemory(target.Pid);
                UnwindRegisters regs = UnwindRegisters.FromUserRegs(stopped.Registers);
                result = unwinder.Unwind(space, regs, live);
                byte[] copy = new byte[result.Frames[^1].Sp + 256 - stopped.Registers.Rsp];
                Assert.True(live.TryRead(stopped.Registers.Rsp, copy));
                fromCopy = unwinder.Unwind(space, regs, new StackCopyMemory(stopped.Registers.Rsp, copy));
            }

            List<(ulong Pc, bool SigTramp, string Name)> expected = gdb[tid];
            string Describe() => $"thread {name} ({tid}), {flags}: ours {result} [{string.Join(" ", result.Frames.Select(f => $"0x{f.Pc:x}"))}], gdb [{string.Join(" ", expected.Select(f => $"0x{f.Pc:x}:{f.Name}"))}]";
            Assert.True(result.IsComplete, Describe());
            Assert.True(expected.Count == result.Frames.Count, Describe());
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.True(expected[i].Pc == result.Frames[i].Pc, $"frame {i} differs: " + Describe());
            }

            Assert.True(fromCopy.IsComplete, $"from the stack copy: {fromCopy}");
            Assert.Equal(result.Frames, fromCopy.Frames);
            Assert.True(expected.Count >= 4, Describe());
            if (name == "deep")
            {
                Assert.True(expected.Count(f => f.Name == "recurse") >= 15, Describe());
            }

            if (name == "signal")
            {
                int tramp = expected.FindIndex(f => f.SigTramp);
                Assert.True(tramp > 0, Describe());
                Assert.True(result.Frames[tramp + 1].IsExactPc, "the frame a signal interrupted has an exact pc: " + Describe());
            }
        }
    }
}

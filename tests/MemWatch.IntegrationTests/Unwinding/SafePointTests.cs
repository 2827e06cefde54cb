using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;
using SafePointVerdict = MemWatch.Probes.SafePoints.SafePointVerdict;

namespace MemWatch.IntegrationTests.Unwinding;

/// <summary>
/// The lock-aware safe-point rule on real stopped threads of unwind_target.c: each critical region (malloc_stats on a
/// full pipe with lazy binding and -z now, fork in a loop, dl_iterate_phdr, fflush(NULL), an owned list_all_lock,
/// jemalloc and tcmalloc statistics on a full pipe) must come out Unsafe naming its region; threads parked in ordinary
/// places must come out Safe; a malloc'd pthread_attr_setstack stack gives only its own headroom.
/// </summary>
public sealed class SafePointTests
{
    private const ulong EngineFrameBytes = 16 * 1024;

    [Theory]
    [InlineData("-O2")]
    [InlineData("-O2 -Wl,-z,now")]
    public void CriticalRegionsAreUnsafeAndOrdinaryThreadsSafe(string flags)
    {
        using UnwindTarget target = UnwindTarget.Start(flags);
        target.WaitInSyscall("stats", 1);
        (SafePointRule rule, TargetMaps maps) = Rule(target);
        Assert.True(rule.Regions.IsExactForGlibc, "libc6-dbg gives glibc's exact function ranges");
        Assert.NotNull(rule.LockWords);
        int threads = Directory.GetDirectories($"/proc/{target.Pid}/task").Length;

        foreach (string name in UnwindTarget.OrdinaryThreads)
        {
            SafePointVerdict v = Check(rule, target, name, maps, EngineFrameBytes, threads);
            Assert.True(v.IsSafe, $"{name}: {v} ({v.Unwind})");
        }

        SafePointVerdict stats = Check(rule, target, "stats", maps, EngineFrameBytes, threads);
        Assert.False(stats.IsSafe);
        Assert.Equal(CriticalRegionKind.MallocStatistics, stats.Region?.Kind);
        Assert.Contains(stats.Locks, w => w.Name == "main_arena.mutex" && !w.IsFree);

        SafePointVerdict dl = Check(rule, target, "dliter", maps, EngineFrameBytes, threads);
        Assert.False(dl.IsSafe);
        Assert.Equal(CriticalRegionKind.DynamicLoader, dl.Region?.Kind);

        // No stdio frame is left on its stack: only the owner word of list_all_lock shows it.
        SafePointVerdict list = Check(rule, target, "listlock", maps, EngineFrameBytes, threads);
        Assert.False(list.IsSafe);
        Assert.Null(list.Region);
        Assert.Contains("owns list_all_lock", list.Reason, StringComparison.Ordinal);

        SafePointVerdict coro = Check(rule, target, "coro", maps, EngineFrameBytes, threads);
        Assert.False(coro.IsSafe);
        Assert.Contains("not in a recognised stack", coro.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MallocdThreadStackGivesOnlyItsOwnHeadroom()
    {
        using UnwindTarget target = UnwindTarget.Start("-O2");
        (SafePointRule rule, TargetMaps maps) = Rule(target);
        ulong block = target.Value("setstack_block");
        ulong size = target.Value("setstack_block_size");
        using StoppedThread t = StoppedThread.Stop(target.Tid("setstack"));
        var memory = new LiveProcessMemory(target.Pid);
        ulong free = t.Registers.Rsp - block - ThreadStack.RedZone;
        Assert.True(free < size);

        SafePointVerdict fits = rule.Check(t.Tid, t.Registers, maps, memory, free, 20);
        Assert.True(fits.IsSafe, fits.ToString());

        // One byte more than the block holds below rsp would overwrite the heap chunk beside it.
        SafePointVerdict tooBig = rule.Check(t.Tid, t.Registers, maps, memory, free + 1, 20);
        Assert.False(tooBig.IsSafe);
        Assert.Contains($"only {free} bytes of stack", tooBig.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FflushHoldingListAllLockIsUnsafe()
    {
        using UnwindTarget target = UnwindTarget.Start("-O2", "flush");
        target.WaitInSyscall("flush", 1);
        (SafePointRule rule, TargetMaps maps) = Rule(target);
        SafePointVerdict v = Check(rule, target, "flush", maps, EngineFrameBytes, 2);
        Assert.False(v.IsSafe);
        Assert.Equal(CriticalRegionKind.StdioListLock, v.Region?.Kind);
        Assert.Contains(v.Locks, w => w.Name == "list_all_lock" && !w.IsFree);
        Assert.True(Check(rule, target, "main", maps, EngineFrameBytes, 2).IsSafe);
    }

    [Theory]
    [InlineData("-O2")]
    [InlineData("-O2 -Wl,-z,now")]
    public void ThreadInsideForkIsUnsafe(string flags)
    {
        using UnwindTarget target = UnwindTarget.Start(flags, "fork");
        (SafePointRule rule, TargetMaps maps) = Rule(target);
        TargetSymbols symbols = target.Symbols();
        TargetModule libc = symbols.FindModule("libc.so.6")!;

        // The oracle: rip itself (no unwinding) inside __libc_fork or _Fork, by the debug file's symbol table.
        IReadOnlyList<(ulong Start, ulong End)> fork = TargetSymbols.FunctionRanges(libc, n => n is "__libc_fork" or "_Fork");
        int inFork = 0;
        var seen = new Dictionary<string, int>();
        for (int attempt = 0; attempt < 3000 && inFork < 5; attempt++)
        {
            using StoppedThread t = StoppedThread.Stop(target.Pid);
            SafePointVerdict v = rule.Check(t.Tid, t.Registers, maps, new LiveProcessMemory(target.Pid), EngineFrameBytes, 2);
            string key = $"{v.IsSafe} {v.Region?.Kind} {Symbolize(libc, t.Registers.Rip)}";
            seen[key] = seen.GetValueOrDefault(key) + 1;
            if (fork.Any(r => t.Registers.Rip >= r.Start && t.Registers.Rip < r.End))
            {
                inFork++;
                Assert.False(v.IsSafe, $"rip 0x{t.Registers.Rip:x} is in fork: {v}");
                Assert.Equal(CriticalRegionKind.Fork, v.Region?.Kind);
            }
            else if (v.IsSafe)
            {
                // Safe only outside fork: no frame of the unwind in __libc_fork.
                Assert.DoesNotContain(v.Unwind!.Frames, f => fork.Any(r => f.LookupPc >= r.Start && f.LookupPc < r.End));
            }
        }

        Assert.True(inFork > 0, "the main thread was never stopped inside fork: " + string.Join("; ", seen.Select(p => $"{p.Key} x{p.Value}")));
        Assert.True(Check(rule, target, "deep", maps, EngineFrameBytes, 2).IsSafe);
    }

    [Fact]
    public void SingleThreadedMallocIsUnsafeWithNoLockHeld()
    {
        using UnwindTarget target = UnwindTarget.Start("-O2", "churn");
        (SafePointRule rule, TargetMaps maps) = Rule(target);
        TargetModule libc = target.Symbols().FindModule("libc.so.6")!;
        IReadOnlyList<(ulong Start, ulong End)> malloc = TargetSymbols.FunctionRanges(libc, n => n is "_int_malloc" or "_int_free" or "__libc_malloc" or "__libc_free" or "malloc_consolidate");
        int inMalloc = 0;
        for (int attempt = 0; attempt < 3000 && inMalloc < 5; attempt++)
        {
            using StoppedThread t = StoppedThread.Stop(target.Pid);
            if (!malloc.Any(r => t.Registers.Rip >= r.Start && t.Registers.Rip < r.End))
            {
                continue;
            }

            inMalloc++;
            SafePointVerdict v = rule.Check(t.Tid, t.Registers, maps, new LiveProcessMemory(target.Pid), EngineFrameBytes, 1);
            Assert.False(v.IsSafe, v.ToString());
            Assert.Equal(CriticalRegionKind.GlibcMalloc, v.Region?.Kind);

            // SINGLE_THREAD_P: glibc took no lock, so only the unwind could tell.
            Assert.All(v.Locks, w => Assert.True(w.IsFree, w.ToString()));
        }

        Assert.True(inMalloc > 0, "the thread was never stopped inside malloc or free");
    }

    [Theory]
    [InlineData("-ljemalloc", CriticalRegionKind.Jemalloc)]
    [InlineData("-ltcmalloc", CriticalRegionKind.Tcmalloc)]
    public void AllocatorStatisticsOnFullPipeAreUnsafe(string library, CriticalRegionKind kind)
    {
        using UnwindTarget target = UnwindTarget.Start("-O2 " + library, "allocstats");
        target.WaitInSyscall("allocstats", 1);
        (SafePointRule rule, TargetMaps maps) = Rule(target);
        SafePointVerdict v = Check(rule, target, "allocstats", maps, EngineFrameBytes, 2);
        Assert.False(v.IsSafe);
        Assert.Equal(kind, v.Region?.Kind);
        Assert.True(Check(rule, target, "main", maps, EngineFrameBytes, 2).IsSafe);
    }

    private static string Symbolize(TargetModule libc, ulong pc)
    {
        foreach (ElfSymbol s in libc.DebugFile?.Symbols ?? [])
        {
            ulong start = libc.AddressOf(s);
            if (s.Type == ElfSymbolType.Function && pc >= start && pc < start + s.Size)
            {
                return s.Name;
            }
        }

        return $"0x{pc:x}";
    }

    private static (SafePointRule Rule, TargetMaps Maps) Rule(UnwindTarget target)
    {
        TargetSymbols symbols = target.Symbols();
        var rule = SafePointRule.Create(ProcFileSystem.Default, symbols, new LiveProcessMemory(target.Pid));
        Assert.Empty(rule.AddressSpace.Problems);
        Assert.True(TargetMaps.TryRead(ProcFileSystem.Default, target.Pid, new FileBuffer(), out TargetMaps? maps));
        return (rule, maps);
    }

    private static SafePointVerdict Check(SafePointRule rule, UnwindTarget target, string name, TargetMaps maps, ulong needed, int threads)
    {
        using StoppedThread t = StoppedThread.Stop(target.Tid(name));
        return rule.Check(t.Tid, t.Registers, maps, new LiveProcessMemory(target.Pid), needed, threads);
    }
}

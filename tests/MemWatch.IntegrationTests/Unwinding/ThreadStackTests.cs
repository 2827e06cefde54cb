using System.Diagnostics;
using System.Text.RegularExpressions;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;

namespace MemWatch.IntegrationTests.Unwinding;

/// <summary>
/// The stack-bounds rule on real threads of unwind_target.c, against what each thread measured itself with
/// pthread_getattr_np, and its struct pthread offsets against gdb's <c>ptype /o struct pthread</c> (libc6-dbg).
/// </summary>
public sealed partial class ThreadStackTests
{
    [Fact]
    public void StacksAreThoseEachThreadReportsAndOffsetsAreGdbs()
    {
        using UnwindTarget target = UnwindTarget.Start("-O2");
        Assert.True(TargetMaps.TryRead(ProcFileSystem.Default, target.Pid, new FileBuffer(), out TargetMaps? maps));
        var locator = new ThreadStackLocator();
        var memory = new LiveProcessMemory(target.Pid);
        foreach (string name in UnwindTarget.OrdinaryThreads)
        {
            ThreadStack stack;
            ulong rsp;
            using (StoppedThread t = StoppedThread.Stop(target.Tid(name)))
            {
                memory.Reset();
                rsp = t.Registers.Rsp;
                stack = locator.Locate(target.Pid, t.Tid, rsp, t.Registers.FsBase, maps, memory);
            }

            ulong lo = target.Value(name + "_lo");
            ulong top = lo + target.Value(name + "_size");
            Assert.True(stack.Contains(rsp), $"{name}: {stack}");
            if (name == "main")
            {
                Assert.Equal(ThreadStackKind.MainThread, stack.Kind);
                // glibc's top is the page above __libc_stack_end; the mapping goes on above it (argv, environment).
                Assert.True(rsp < top && top <= stack.High, $"{name}: {stack} vs pthread_getattr_np top 0x{top:x}");
                Assert.True(stack.Low >= lo, $"{name}: {stack} below pthread_getattr_np's 0x{lo:x}");
            }
            else
            {
                // pthread_getattr_np: [stackblock + guardsize, stackblock + stackblock_size).
                Assert.Equal(ThreadStackKind.PthreadBlock, stack.Kind);
                Assert.True(lo == stack.Low, $"{name}: {stack} vs pthread_getattr_np 0x{lo:x}");
                Assert.True(stack.High <= top, $"{name}: {stack} vs top 0x{top:x}");
                Assert.Equal(stack.Low + ThreadStack.RedZone + stack.FreeBelow(rsp), rsp);
            }

            if (name == "setstack")
            {
                Assert.Equal(target.Value("setstack_block"), stack.Low);
                Assert.Equal(0UL, stack.GuardSize);
                Assert.Equal("[heap]", HeapName(target.Pid, rsp));
            }
        }

        (int stackblock, int size, int guard) = GdbOffsets();
        Assert.Equal(stackblock, locator.LearntFields!.Value.StackBlockOffset);
        Assert.Equal(size, locator.LearntFields!.Value.StackBlockSizeOffset);
        Assert.Equal(guard, locator.LearntFields!.Value.GuardSizeOffset);
    }

    [Fact]
    public void CoroutineStackIsNotRecognised()
    {
        using UnwindTarget target = UnwindTarget.Start("-O2");
        Assert.True(TargetMaps.TryRead(ProcFileSystem.Default, target.Pid, new FileBuffer(), out TargetMaps? maps));
        using StoppedThread t = StoppedThread.Stop(target.Tid("coro"));
        ThreadStack stack = new ThreadStackLocator().Locate(target.Pid, t.Tid, t.Registers.Rsp, t.Registers.FsBase, maps, new LiveProcessMemory(target.Pid));
        Assert.Equal(ThreadStackKind.Unrecognised, stack.Kind);
        Assert.Equal(0UL, stack.FreeBelow(t.Registers.Rsp));
        Assert.Contains("outside the thread's stack block", stack.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void ArenaNextOffsetIsGdbs()
    {
        using UnwindTarget target = UnwindTarget.Start("-O2");
        TargetSymbols symbols = target.Symbols();
        GlibcLockWords? words = GlibcLockWords.TryCreate(symbols);
        Assert.NotNull(words);
        string output = Gdb("ptype /o struct malloc_state");
        Match m = Regex.Match(output, @"/\*\s+(\d+)\s+\|\s+8 \*/\s+struct malloc_state \*next;");
        Assert.True(m.Success, output);
        Assert.Equal(ulong.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), words.NextOffset);
        Assert.NotEqual(0UL, words.ListAllLock);
    }

    private static (int StackBlock, int Size, int Guard) GdbOffsets()
    {
        string output = Gdb("ptype /o struct pthread");
        return (Field(output, "void \\*stackblock"), Field(output, "size_t stackblock_size"), Field(output, "size_t guardsize"));

        static int Field(string text, string decl)
        {
            Match m = Regex.Match(text, @"/\*\s+(\d+)\s+\|\s+\d+ \*/\s+" + decl + ";");
            Assert.True(m.Success, $"gdb's ptype /o has no '{decl}'");
            return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static string Gdb(string command)
    {
        var psi = new ProcessStartInfo("gdb", $"-nx -batch -ex \"{command}\" /lib/x86_64-linux-gnu/libc.so.6") { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process gdb = Process.Start(psi)!;
        string output = gdb.StandardOutput.ReadToEnd();
        gdb.WaitForExit();
        return output;
    }

    private static string HeapName(int pid, ulong address)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/maps"))
        {
            string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            string[] range = f[0].Split('-');
            if (address >= Convert.ToUInt64(range[0], 16) && address < Convert.ToUInt64(range[1], 16))
            {
                return f.Length > 5 ? f[5].Trim() : "";
            }
        }

        return "?";
    }
}

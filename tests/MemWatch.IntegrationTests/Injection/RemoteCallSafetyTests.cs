using System.Diagnostics;
using System.Globalization;
using MemWatch.Probes;
using MemWatch.Probes.Injection;

namespace MemWatch.IntegrationTests.Injection;

public sealed class RemoteCallSafetyTests
{
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(15);
    private const int SigRtMin = 34; // glibc's SIGRTMIN (the kernel's 32 and 33 are its own)

    [Fact]
    public void Call_CalleeOutlivesTimeout_TimeoutAndThreadRestoresItself()
    {
        using var target = InjectTarget.Start();
        int vec = target.ThreadId("vec");
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = vec });

        var e = Assert.Throws<RemoteCallException>(() =>
            session.Call(target.Address("slow_call"), [RemoteArg.Int(1500L)], [], TimeSpan.FromMilliseconds(200)));
        Assert.Equal(RemoteCallFailure.Timeout, e.Reason);
        Assert.Equal(0, TracerPid(target.Pid, vec));

        // The callee (which clobbered ymm8-15) finishes by itself; rt_sigreturn puts the vec thread back.
        Dictionary<string, long> done = target.WaitForStats(s => s["slow_done"] == 1, s_patience);
        Assert.Equal(1, done["slow_done"]);
        Dictionary<string, long> later = target.WaitForStats(s => s["vec_rounds"] >= done["vec_rounds"] + 10, s_patience);
        Assert.True(later["vec_rounds"] >= done["vec_rounds"] + 10, "the vec thread did not resume its loop");
        Assert.Equal(0, later["vec_bad"]);

        // The session stays usable after a timeout.
        Assert.Equal(7UL, session.Call(target.Address("add"), [RemoteArg.Int(3L), RemoteArg.Int(4L)], [], s_callTimeout).ReturnValue);
    }

    // rt_sigreturn puts the mask and FPU state back from the frame, so a callee that writes below its scratch block must
    // not be what it reads: the engine writes the frame again first. 128 bytes reach the end of the fpstate (its magic2:
    // rt_sigreturn would restore only the legacy area and reset the AVX halves); 1024 bytes go through it and, where the
    // XSAVE image is small, into the ucontext's signal mask (rt_sigreturn would refuse the frame with a SIGSEGV that the
    // mask it read blocks, so the kernel would reset the handler and kill the process).
    [Theory]
    [InlineData(128)]
    [InlineData(1024)]
    public void Call_CalleeWritesBelowItsScratch_VectorRegistersStillPutBack(long bytes)
    {
        using var target = InjectTarget.Start();
        int vec = target.ThreadId("vec");
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = vec });
        long rounds0 = target.Stats()["vec_rounds"];
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal((ulong)bytes, session.Call(target.Address("scribble_below"), [RemoteArg.Scratch(0), RemoteArg.Int(bytes)], new byte[64], s_callTimeout).ReturnValue);
            Thread.Sleep(3);
        }

        Dictionary<string, long> stats = target.WaitForStats(s => s["vec_rounds"] >= rounds0 + 10, s_patience);
        Assert.True(stats["vec_rounds"] >= rounds0 + 10, "the vec thread did not resume its loop");
        Assert.Equal(0, stats["vec_bad"]);
        Assert.Equal(0, stats["segv"]);
        Assert.Equal(0, TracerPid(target.Pid, vec));
    }

    [Fact]
    public async Task Call_InjectorKilledMidCall_TargetSurvivesWithRegistersIntact()
    {
        using var target = InjectTarget.Start();
        int vec = target.ThreadId("vec");
        string host = Path.Combine(AppContext.BaseDirectory, "MemWatch.InjectorHost.dll");
        var psi = new ProcessStartInfo(
            "dotnet",
            $"\"{host}\" {target.Pid} {vec} 0x{target.Address("slow_call"):x} 2000 60000")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using Process injector = Process.Start(psi)!;
        try
        {
            string? line = await injector.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("CALLING", line);
            Dictionary<string, long> started = target.WaitForStats(s => s["slow_started"] == 1, s_patience);
            Assert.Equal(1, started["slow_started"]);
            Assert.Equal(0, started["slow_done"]);
            Assert.NotEqual(0, TracerPid(target.Pid, vec));

            injector.Kill();
            Assert.True(injector.WaitForExit(10_000));
        }
        finally
        {
            if (!injector.HasExited)
            {
                injector.Kill();
            }
        }

        Dictionary<string, long> done = target.WaitForStats(s => s["slow_done"] == 1, s_patience);
        Assert.False(target.Workload.HasExited);
        Assert.Equal(1, done["slow_done"]);
        Assert.Equal(0, TracerPid(target.Pid, vec));
        Dictionary<string, long> later = target.WaitForStats(s => s["vec_rounds"] >= done["vec_rounds"] + 10, s_patience);
        Assert.True(later["vec_rounds"] >= done["vec_rounds"] + 10, "the vec thread did not resume its loop");
        Assert.Equal(0, later["vec_bad"]);
    }

    [Fact]
    public void Call_SignalsArriveDuringCall_HeldBackThenDeliveredAndCallCompletes()
    {
        using var target = InjectTarget.Start();
        int pauser = target.ThreadId("pauser");
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = pauser });
        var signaller = new BackgroundWork<bool>(() =>
        {
            target.WaitForStats(s => s["slow_started"] == 1, s_patience);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(0, Interop.Libc.TgKill(target.Pid, pauser, Interop.Libc.SIGUSR1));
                Assert.Equal(0, Interop.Libc.TgKill(target.Pid, pauser, SigRtMin));
                Thread.Sleep(50);
            }

            return true;
        });

        RemoteCallResult r = session.Call(target.Address("slow_call"), [RemoteArg.Int(800L)], [], s_callTimeout);
        signaller.Join(s_patience);
        Assert.Equal(1600UL, r.ReturnValue);
        Assert.True(r.CalleeMicroseconds >= 800_000, $"callee ran {r.CalleeMicroseconds} us");

        // Held back during the call, delivered after it: real-time signals queue (all 3), a standard one pending merges
        // with the next (as whenever a thread blocks it); no handler ran while the callee did.
        Dictionary<string, long> after = target.WaitForStats(s => s["rt"] == 3, s_patience);
        Assert.Equal(3, after["rt"]);
        Assert.InRange(after["usr1"], 1, 3);
        Assert.Equal(0, after["usr1_in_call"]);
        Assert.Equal(34, WaitForSyscall(target, pauser));
    }

    [Fact]
    public void Call_TargetExitsMidCall_ProcessExited()
    {
        using var target = InjectTarget.Start();
        int pauser = target.ThreadId("pauser");
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = pauser });
        var exiter = new BackgroundWork<string>(() =>
        {
            target.WaitForStats(s => s["slow_started"] == 1, s_patience);
            return target.Workload.Send("exit");
        });

        var e = Assert.Throws<RemoteCallException>(() =>
            session.Call(target.Address("slow_call"), [RemoteArg.Int(5000L)], [], s_callTimeout));
        exiter.Join(s_patience);
        Assert.Equal(RemoteCallFailure.ProcessExited, e.Reason);
    }

    [Fact]
    public void Open_TargetTracedByStrace_AlreadyTraced()
    {
        using var target = InjectTarget.Start();
        var psi = new ProcessStartInfo("strace", $"-f -e trace=none -p {target.Pid}")
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process strace = Process.Start(psi)!;
        try
        {
            var sw = Stopwatch.StartNew();
            while (TracerPid(target.Pid, target.Pid) == 0 && sw.Elapsed < s_patience)
            {
                Thread.Sleep(20);
            }

            Assert.Equal(strace.Id, TracerPid(target.Pid, target.Pid));
            var e = Assert.Throws<RemoteCallException>(() => RemoteProcess.Open(target.Pid));
            Assert.Equal(RemoteCallFailure.AlreadyTraced, e.Reason);
            Assert.Contains("strace", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            strace.Kill();
            strace.WaitForExit(10_000);
        }

        // Refused cleanly: nothing was left held, so a session can be opened once strace is gone.
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid);
        Assert.Equal((ulong)target.Pid, session.Call(target.Address("getpid"), [], [], s_callTimeout).ReturnValue);
    }

    [Fact]
    public void Call_CallerFrameInForbiddenRange_NotSafeAfterRetries()
    {
        using var target = InjectTarget.Start();
        var options = new RemoteCallOptions
        {
            ThreadId = target.ThreadId("blocker_tid"),
            ForbiddenRanges = [target.FunctionRange("blocker")],
            MaxSafetyAttempts = 3,
        };
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, options);
        var e = Assert.Throws<RemoteCallException>(() =>
            session.Call(target.Address("add"), [RemoteArg.Int(1L), RemoteArg.Int(2L)], [], s_callTimeout));
        Assert.Equal(RemoteCallFailure.NotSafe, e.Reason);
        // Found by unwinding: a caller's frame (blocker called the read it waits in), not the innermost one.
        Assert.Matches(@"frame #[1-9]\d* \(0x[0-9a-f]+\) is in caller's unsafe range", e.Message);
        Assert.Equal(34, WaitForSyscall(target, options.ThreadId!.Value));
    }

    [Fact]
    public void Call_InnermostFrameInForbiddenRange_NotSafe()
    {
        using var target = InjectTarget.Start();
        int pauser = target.ThreadId("pauser");
        (ulong start, ulong end) libcText = LibcText(target.Pid);
        var options = new RemoteCallOptions { ThreadId = pauser, ForbiddenRanges = [libcText], MaxSafetyAttempts = 2 };
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, options);
        var e = Assert.Throws<RemoteCallException>(() => session.Call(target.Address("add"), [], [], s_callTimeout));
        Assert.Equal(RemoteCallFailure.NotSafe, e.Reason);
        Assert.Contains("frame #0 (0x", e.Message, StringComparison.Ordinal);
        Assert.Contains("is in caller's unsafe range", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_SecondSessionOnSameTarget_Busy()
    {
        using var target = InjectTarget.Start();
        using IRemoteCallSession first = RemoteProcess.Open(target.Pid);
        var e = Assert.Throws<RemoteCallException>(() => RemoteProcess.Open(target.Pid));
        Assert.Equal(RemoteCallFailure.Busy, e.Reason);
        first.Dispose();
        using IRemoteCallSession second = RemoteProcess.Open(target.Pid);
        Assert.Equal(target.Pid, second.Pid);
    }

    [Fact]
    public void Call_ConcurrentCallOnSameSession_Busy()
    {
        using var target = InjectTarget.Start();
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = target.ThreadId("pauser") });
        var slow = new BackgroundWork<RemoteCallResult>(() => session.Call(target.Address("slow_call"), [RemoteArg.Int(700L)], [], s_callTimeout));
        target.WaitForStats(s => s["slow_started"] == 1, s_patience);
        var e = Assert.Throws<RemoteCallException>(() => session.Call(target.Address("add"), [], [], s_callTimeout));
        Assert.Equal(RemoteCallFailure.Busy, e.Reason);
        Assert.Equal(1400UL, slow.Join(s_patience).ReturnValue);
    }

    [Fact]
    public void Call_CalleeFaults_CalleeFaultAndTargetHandlerDecides()
    {
        using var target = InjectTarget.Start();
        int pauser = target.ThreadId("pauser");
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = pauser });
        var e = Assert.Throws<RemoteCallException>(() =>
            session.Call(target.Address("fault_call"), [RemoteArg.Int(8L)], [], s_callTimeout));
        Assert.Equal(RemoteCallFailure.CalleeFault, e.Reason);
        Dictionary<string, long> stats = target.WaitForStats(s => s["segv"] == 1, s_patience);
        Assert.Equal(1, stats["segv"]);
        Assert.Equal(34, WaitForSyscall(target, pauser));
        Assert.Equal(5UL, session.Call(target.Address("add"), [RemoteArg.Int(2L), RemoteArg.Int(3L)], [], s_callTimeout).ReturnValue);
    }

    [Fact]
    public void Open_ExitedProcessOrSelf_ProcessExitedOrUnsupported()
    {
        int pid;
        using (var target = InjectTarget.Start())
        {
            pid = target.Pid;
        }

        Assert.Equal(RemoteCallFailure.ProcessExited, Assert.Throws<RemoteCallException>(() => RemoteProcess.Open(pid)).Reason);
        Assert.Equal(RemoteCallFailure.Unsupported, Assert.Throws<RemoteCallException>(() => RemoteProcess.Open(Environment.ProcessId)).Reason);
    }

    private static int TracerPid(int pid, int tid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/task/{tid}/status"))
        {
            if (line.StartsWith("TracerPid:", StringComparison.Ordinal))
            {
                return int.Parse(line.AsSpan(10).Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("no TracerPid line");
    }

    private static long WaitForSyscall(InjectTarget target, int tid)
    {
        var sw = Stopwatch.StartNew();
        long nr;
        while ((nr = target.CurrentSyscall(tid)) == -1 && sw.Elapsed < s_patience)
        {
            Thread.Sleep(10);
        }

        return nr;
    }

    private static (ulong Start, ulong End) LibcText(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/maps"))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 6 && f[1].Contains('x', StringComparison.Ordinal) && Path.GetFileName(f[5]).StartsWith("libc.so", StringComparison.Ordinal))
            {
                string[] range = f[0].Split('-');
                return (ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }

        throw new InvalidOperationException("no libc text mapping");
    }
}

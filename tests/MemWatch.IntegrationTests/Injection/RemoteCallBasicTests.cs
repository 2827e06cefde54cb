using System.Text;
using MemWatch.Probes.Injection;

namespace MemWatch.IntegrationTests.Injection;

public sealed class RemoteCallBasicTests
{
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Call_Add_ReturnsSumOf64BitArguments()
    {
        using var target = InjectTarget.Start();
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid);
        long a = 0x1234_5678_9abc;
        long b = -0x1111_0000_0001;
        RemoteCallResult r = session.Call(target.Address("add"), [RemoteArg.Int(a), RemoteArg.Int(b)], [], s_callTimeout);
        Assert.Equal(a + b, unchecked((long)r.ReturnValue));
        Assert.True(r.PauseMicroseconds > 0);
        Assert.True(r.PauseMicroseconds >= r.CalleeMicroseconds);
    }

    [Fact]
    public void Call_Getpid_ReturnsTargetPid()
    {
        using var target = InjectTarget.Start();
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid);
        RemoteCallResult r = session.Call(target.Address("getpid"), [], [], s_callTimeout);
        Assert.Equal((ulong)target.Pid, r.ReturnValue);
    }

    [Fact]
    public void Call_StrlenOfScratchString_ReturnsLengthAndKeepsScratch()
    {
        using var target = InjectTarget.Start();
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid);
        byte[] scratch = new byte[64];
        int written = Encoding.ASCII.GetBytes("memwatch remote strlen", scratch.AsSpan(8));
        RemoteCallResult r = session.Call(target.Address("strlen"), [RemoteArg.Scratch(8)], scratch, s_callTimeout);
        Assert.Equal((ulong)written, r.ReturnValue);
        Assert.Equal("memwatch remote strlen", Encoding.ASCII.GetString(scratch, 8, written));
    }

    [Fact]
    public void Call_ManyCalls_BlockedThreadsResumeTheirSyscalls()
    {
        using var target = InjectTarget.Start();
        int pauser = target.ThreadId("pauser");
        int sleeper = target.ThreadId("sleeper");
        using (IRemoteCallSession onPauser = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = pauser }))
        {
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal((ulong)(i + 1), onPauser.Call(target.Address("add"), [RemoteArg.Int(i), RemoteArg.Int(1L)], [], s_callTimeout).ReturnValue);
            }

            Assert.Equal(pauser, onPauser.Tid);
        }

        long before = target.Stats()["sleeper_rounds"];
        using (IRemoteCallSession onSleeper = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = sleeper }))
        {
            for (int i = 0; i < 20; i++)
            {
                onSleeper.Call(target.Address("getpid"), [], [], s_callTimeout);
            }
        }

        // pause() (34) is restarted after ERESTARTNOHAND, nanosleep through restart_syscall without EINTR.
        Thread.Sleep(50);
        Assert.Equal(34, target.CurrentSyscall(pauser));
        Dictionary<string, long> stats = target.WaitForStats(s => s["sleeper_rounds"] >= before + 2, TimeSpan.FromSeconds(10));
        Assert.Equal(0, stats["sleeper_eintr"]);
        Assert.True(stats["sleeper_rounds"] >= before + 2, "the sleeper thread stopped sleeping in rounds");
    }

    [Fact]
    public void Call_ClobberingVectorsOnVectorThread_RegistersPreserved()
    {
        using var target = InjectTarget.Start();
        int vec = target.ThreadId("vec");
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = vec });
        long rounds0 = target.Stats()["vec_rounds"];
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal((ulong)(i + 1001), session.Call(target.Address("clobber_vectors"), [RemoteArg.Int(i + 1000L)], [], s_callTimeout).ReturnValue);
            Thread.Sleep(3);
        }

        Dictionary<string, long> stats = target.WaitForStats(s => s["vec_rounds"] >= rounds0 + 10, TimeSpan.FromSeconds(10));
        Assert.Equal(0, stats["vec_bad"]);
        Assert.True(stats["vec_rounds"] >= rounds0 + 10);
    }
}

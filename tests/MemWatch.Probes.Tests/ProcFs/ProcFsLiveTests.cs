using System.Diagnostics;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.ProcFs;

/// <summary>The readers against the live /proc: this process, processes that are gone, a real zombie.</summary>
public sealed class ProcFsLiveTests
{
    private static readonly ProcFileSystem s_proc = ProcFileSystem.Default;

    [Fact]
    public void TryRead_PidThatDoesNotExist_ReturnsFalse()
    {
        // Above any pid_max (at most 2^22), so never a live process.
        AssertAllReadersReportGone(int.MaxValue);
    }

    [Fact]
    public void TryRead_ProcessExitedAfterEnumeration_ReturnsFalse()
    {
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            Assert.Contains(sleeper.Id, ProcessEnumerator.EnumerateProcessIds(s_proc));
            Assert.True(ProcStatus.TryRead(s_proc, sleeper.Id, new FileBuffer(), out _));
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();   // reaps it, so /proc/<pid> is gone
        }

        AssertAllReadersReportGone(sleeper.Id);
        Assert.Empty(ProcessEnumerator.EnumerateThreadIds(s_proc, sleeper.Id));
    }

    [Fact]
    public void TryRead_ThisProcess_FilesAgree()
    {
        var buffer = new FileBuffer();
        int pid = Environment.ProcessId;
        Assert.True(ProcStatus.TryRead(s_proc, pid, buffer, out ProcStatus? status));
        Assert.True(ProcStat.TryRead(s_proc, pid, buffer, out ProcStat? stat));
        Assert.True(ProcComm.TryRead(s_proc, pid, buffer, out ProcComm? comm));
        Assert.True(ProcCmdline.TryRead(s_proc, pid, buffer, out ProcCmdline? cmdline));
        Assert.True(ProcEnviron.TryRead(s_proc, pid, buffer, out ProcEnviron? environ));
        Assert.True(ProcOomScore.TryRead(s_proc, pid, buffer, out _));
        Assert.True(ProcStatm.TryRead(s_proc, pid, buffer, out ProcStatm? statm));
        Assert.True(Meminfo.TryRead(s_proc, buffer, out Meminfo? meminfo));

        Assert.Equal(pid, status.Tgid);
        Assert.Equal(pid, stat.Pid);
        Assert.Equal(comm.Name, status.Name);
        Assert.Equal(comm.Name, stat.Comm);
        Assert.Equal(Environment.GetCommandLineArgs().Length > 0, !cmdline.IsEmpty);
        Assert.Equal(Environment.GetEnvironmentVariable("PATH") is not null, environ.Contains("PATH"));
        Assert.True(statm.ResidentBytes > 0);
        Assert.True(meminfo.MemTotalBytes > statm.ResidentBytes);
    }

    [Fact]
    public void TryRead_LiveZombie_EmptyCmdlineAndEnvironNoMemory()
    {
        // sh forks a child that exits at once, then execs sleep, which never reaps it.
        using Process parent = Process.Start(new ProcessStartInfo("sh", ["-c", "true & exec sleep 60"]) { UseShellExecute = false })!;
        try
        {
            int zombie = FindZombieChild(parent.Id);
            var buffer = new FileBuffer();

            Assert.True(ProcEnviron.TryRead(s_proc, zombie, buffer, out ProcEnviron? environ));
            Assert.Equal(0, environ.Count);
            Assert.True(ProcCmdline.TryRead(s_proc, zombie, buffer, out ProcCmdline? cmdline));
            Assert.True(cmdline.IsEmpty);
            Assert.True(ProcStatus.TryRead(s_proc, zombie, buffer, out ProcStatus? status));
            Assert.Equal('Z', status.State);
            Assert.Null(status.VmRssBytes);
            Assert.True(ProcStatm.TryRead(s_proc, zombie, buffer, out ProcStatm? statm));
            Assert.Equal(new ProcStatm(0, 0, 0, 0, 0), statm);
        }
        finally
        {
            parent.Kill();
            parent.WaitForExit();
        }
    }

    private static int FindZombieChild(int parentPid)
    {
        var buffer = new FileBuffer();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            foreach (int pid in ProcessEnumerator.EnumerateProcessIds(s_proc))
            {
                if (ProcStat.TryRead(s_proc, pid, buffer, out ProcStat? stat) && stat.PPid == parentPid && stat.State == 'Z')
                {
                    return pid;
                }
            }

            Thread.Sleep(20);
        }

        Assert.Fail($"no zombie child of {parentPid} appeared");
        return 0;
    }

    private static void AssertAllReadersReportGone(int pid)
    {
        var buffer = new FileBuffer();
        Assert.False(ProcStatus.TryRead(s_proc, pid, buffer, out _));
        Assert.False(ProcStat.TryRead(s_proc, pid, buffer, out _));
        Assert.False(ProcStatm.TryRead(s_proc, pid, buffer, out _));
        Assert.False(ProcComm.TryRead(s_proc, pid, buffer, out _));
        Assert.False(ProcCmdline.TryRead(s_proc, pid, buffer, out _));
        Assert.False(ProcOomScore.TryRead(s_proc, pid, buffer, out _));
        Assert.False(ProcEnviron.TryRead(s_proc, pid, buffer, out _));
    }
}

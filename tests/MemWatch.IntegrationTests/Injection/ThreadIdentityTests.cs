using System.Diagnostics;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Unwinding;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// The identity check after a seize (<c>ThreadSeizer.VerifyIdentity</c>) on real processes: a thread of the process meant
/// passes with its thread count; a seized thread that is not in it (a candidate that exited, its TID now another
/// process's) is released and skipped, not taken for the process being gone; a process that exited is named gone.
/// </summary>
public sealed class ThreadIdentityTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void VerifyIdentity_ThreadOfTheProcessMeant_PassesWithItsThreadCount(bool pidfd)
    {
        using var meant = new Sleeper();
        using ThreadSeizer seizer = Seizer(meant.Id, pidfd);
        Assert.True(seizer.TryAttach(meant.Id, out _));
        try
        {
            ThreadStopFields? fields = seizer.ReadStopFields(meant.Id, out string? problem);
            Assert.Null(problem);
            Assert.Equal(1, seizer.VerifyIdentity(meant.Id, fields));
        }
        finally
        {
            ThreadSeizer.Detach(meant.Id, 0);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void VerifyIdentity_SeizedThreadOfAnotherProcess_ReleasedAndSkipped(bool pidfd)
    {
        using var meant = new Sleeper();
        using var other = new Sleeper();
        using ThreadSeizer seizer = Seizer(meant.Id, pidfd);
        Assert.True(seizer.TryAttach(other.Id, out _));
        ThreadStopFields? fields = seizer.ReadStopFields(other.Id, out _);

        Assert.Equal(-1, seizer.VerifyIdentity(other.Id, fields));
        Assert.Null(AdversarialRun.ThreadsHeld(other.Id));
        // And alive (its own state, not Process.HasExited: .NET's SIGCHLD handler sees a traced child's stops): back to
        // its sleep, or on its way there.
        Assert.True(ProcStat.TryRead(new RemoteCallOptions().ProcFileSystem, other.Id, new FileBuffer(4096), out ProcStat? stat));
        Assert.Contains(stat.State, "RS");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void VerifyIdentity_ProcessMeantExited_RefusedAsGone(bool pidfd)
    {
        using var meant = new Sleeper();
        using var other = new Sleeper();
        using ThreadSeizer seizer = Seizer(meant.Id, pidfd);
        meant.Kill();
        Assert.True(seizer.TryAttach(other.Id, out _));

        var e = Assert.Throws<RemoteCallException>(() => seizer.VerifyIdentity(other.Id, seizer.ReadStopFields(other.Id, out _)));
        Assert.Equal(RemoteCallFailure.ProcessExited, e.Reason);
        Assert.Null(AdversarialRun.ThreadsHeld(other.Id));
    }

    private static ThreadSeizer Seizer(int pid, bool pidfd)
    {
        var options = new RemoteCallOptions();
        var buffer = new FileBuffer(4096);
        Assert.True(ProcStat.TryRead(options.ProcFileSystem, pid, buffer, out ProcStat? stat));
        ProcFile? held = ThreadSeizer.OpenStat(options.ProcFileSystem, pid, stat.StartTimeTicks, buffer);
        TargetPidFd? fd = pidfd ? ThreadSeizer.OpenPidFd(options.ProcFileSystem, pid, stat.StartTimeTicks, held, buffer) : null;
        Assert.Equal(pidfd, fd is not null);
        return new ThreadSeizer(pid, options, default, stat.StartTimeTicks, null!, new LiveProcessMemory(pid), held, fd, new CallTimeline(), () => { });
    }

    /// <summary>A <c>sleep 60</c> process, killed and reaped on Dispose.</summary>
    private sealed class Sleeper : IDisposable
    {
        private readonly Process _process = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

        public Sleeper()
        {
            // Past exec: the PID shows sleep's own image, not the forked .NET child.
            for (int i = 0; i < 500 && !File.ReadAllText($"/proc/{Id}/stat").Contains("(sleep)", StringComparison.Ordinal); i++)
            {
                Thread.Sleep(10);
            }
        }

        public int Id => _process.Id;

        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                Kill();
            }

            _process.Dispose();
        }
    }
}

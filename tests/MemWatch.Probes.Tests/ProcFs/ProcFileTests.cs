using System.Diagnostics;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.ProcFs;

/// <summary>
/// Held /proc files on real processes: each reload is generated afresh, a held file of a process that exited reads
/// as gone (never as the PID's next owner), and opening reports gone processes and permission denials as reading by
/// path does.
/// </summary>
public sealed class ProcFileTests
{
    [Fact]
    public void TryReload_GeneratesTheFileAfresh()
    {
        using ProcFile status = ProcFile.TryOpen(ProcFileSystem.Default, Environment.ProcessId, "status")!;
        var buffer = new FileBuffer();
        Assert.True(buffer.TryReload(status));
        int before = ProcStatus.Parse(buffer.Span, status.Path).Threads;

        using var release = new ManualResetEventSlim();
        var extra = new Thread(release.Wait) { IsBackground = true };
        extra.Start();
        try
        {
            Assert.True(buffer.TryReload(status));
            int during = ProcStatus.Parse(buffer.Span, status.Path).Threads;
            Assert.True(during > before, $"threads {before} then {during}: the second read returned the first text");
        }
        finally
        {
            release.Set();
            extra.Join();
        }
    }

    [Fact]
    public void TryReload_AfterTheProcessExited_ReturnsFalse()
    {
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        using ProcFile status = ProcFile.TryOpen(ProcFileSystem.Default, sleeper.Id, "status")!;
        using ProcFile stat = ProcFile.TryOpen(ProcFileSystem.Default, sleeper.Id, "stat")!;
        var buffer = new FileBuffer();
        Assert.True(buffer.TryReload(stat));
        Assert.Equal(sleeper.Id, ProcStat.Parse(buffer.Span, stat.Path).Pid);

        sleeper.Kill();
        sleeper.WaitForExit();

        Assert.False(buffer.TryReload(status));
        Assert.False(buffer.TryReload(stat));
        Assert.True(buffer.Span.IsEmpty);
    }

    [Fact]
    public void TryReload_AfterDispose_ReturnsFalse()
    {
        ProcFile status = ProcFile.TryOpen(ProcFileSystem.Default, Environment.ProcessId, "status")!;
        status.Dispose();

        Assert.False(new FileBuffer().TryReload(status));
    }

    [Fact]
    public void TryOpen_NoSuchProcess_ReturnsNull()
    {
        Assert.Null(ProcFile.TryOpen(ProcFileSystem.Default, int.MaxValue - 1, "status"));
    }

    [Fact]
    public void TryOpen_PermissionDenied_Throws()
    {
        // environ is mode 0400, owner root, and ptrace-checked: nobody may not open it.
        UnprivilegedFiles.Run(() =>
            Assert.Throws<UnauthorizedAccessException>(() => ProcFile.TryOpen(ProcFileSystem.Default, 1, "environ")));
    }
}

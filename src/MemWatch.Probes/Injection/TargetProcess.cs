using System.Buffers.Binary;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Injection;

/// <summary>What the engine reads about the target process itself: whether it is gone, its start time, its executable.</summary>
internal static class TargetProcess
{
    /// <summary>
    /// True when the process no longer exists or is exiting: its directory is gone, or its leader is a zombie (Z) or dead (X)
    /// with no other thread left. A leader that called pthread_exit is a zombie while the process lives on.
    /// </summary>
    internal static bool IsGone(ProcFileSystem fs, int pid)
    {
        try
        {
            return !ProcStat.TryRead(fs, pid, new FileBuffer(1024), out ProcStat? stat) || (stat.State is 'Z' or 'X' && stat.ThreadCount <= 1);
        }
        catch (ProcParseException)
        {
            return !Directory.Exists(fs.ProcessDirectory(pid));
        }
    }

    /// <summary>The dynamic loader is mapped but no libc yet: the process has just run exec and is still starting.</summary>
    internal static bool IsStartingProgram(TargetMaps maps) =>
        maps.Mappings.Any(m => m.Path?.Contains("/ld-linux", StringComparison.Ordinal) == true)
        && !maps.Mappings.Any(m => m.Path is string p && Path.GetFileName(p).StartsWith("libc.so", StringComparison.Ordinal));

    internal static ulong? StartTime(ProcFileSystem fs, int pid, FileBuffer buffer) =>
        ProcStat.TryRead(fs, pid, buffer, out ProcStat? stat) ? stat.StartTimeTicks : null;

    internal static RemoteCallException Reused(int pid, ulong actual, ulong expected) =>
        new(RemoteCallFailure.ProcessExited,
            $"process {pid} is not the process meant: it started at {actual} clock ticks after boot, the one meant at {expected} (it exited and its PID was reused)");

    internal static RemoteCallException Exited(int pid) =>
        new(RemoteCallFailure.ProcessExited, $"process {pid} no longer exists");

    internal static void CheckExecutable(ProcFileSystem fs, int pid)
    {
        Span<byte> header = stackalloc byte[20];
        int n;
        try
        {
            using var exe = File.OpenHandle(fs.ProcessPath(pid, "exe"), FileMode.Open, FileAccess.Read);
            n = RandomAccess.Read(exe, header, 0);
        }
        catch (Exception e) when (FileBuffer.IsGone(e))
        {
            throw IsGone(fs, pid)
                ? Exited(pid)
                : new RemoteCallException(RemoteCallFailure.Unsupported, $"process {pid} has no executable (a kernel thread?)");
        }
        catch (UnauthorizedAccessException e)
        {
            throw IsGone(fs, pid) ? Exited(pid) : new RemoteCallException(RemoteCallFailure.PermissionDenied, $"cannot open /proc/{pid}/exe: {e.Message}", e);
        }

        const ushort emX8664 = 62;
        if (n < 20 || !header[..4].SequenceEqual((ReadOnlySpan<byte>)[0x7f, (byte)'E', (byte)'L', (byte)'F']) || header[4] != 2
            || BinaryPrimitives.ReadUInt16LittleEndian(header[18..]) != emX8664)
        {
            throw new RemoteCallException(RemoteCallFailure.Unsupported, $"process {pid} is not a 64-bit x86_64 ELF program");
        }
    }

    /// <summary>
    /// Open's checks on the process: it is the one meant (start time), alive and not exiting, untraced, without a user
    /// shadow stack, not in seccomp strict mode, and an x86_64 ELF program. Returns its start time.
    /// </summary>
    internal static ulong CheckTraceable(RemoteCallOptions options, int pid, FileBuffer buffer)
    {
        ulong startTime = StartTime(options.ProcFileSystem, pid, buffer) ?? throw Exited(pid);
        if (options.ExpectedStartTimeTicks is ulong expected && expected != startTime)
        {
            throw Reused(pid, startTime, expected);
        }

        if (!ThreadStatus.TryRead(options.ProcFileSystem, pid, null, buffer, out ThreadStatus? status)
            || !ProcStatus.TryRead(options.ProcFileSystem, pid, buffer, out ProcStatus? procStatus))
        {
            throw Exited(pid);
        }

        if (IsGone(options.ProcFileSystem, pid))
        {
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"process {pid} is exiting (state {procStatus.State})");
        }

        if (status.TracerPid != 0)
        {
            throw PtraceDiagnosis.AlreadyTraced(options.ProcFileSystem, pid, status.TracerPid);
        }

        if (status.ShadowStackEnabled)
        {
            throw new RemoteCallException(RemoteCallFailure.Unsupported, $"process {pid} runs with an x86 user shadow stack, which forbids returning into a frame MemWatch builds");
        }

        if (procStatus.Seccomp == 1)
        {
            throw new RemoteCallException(RemoteCallFailure.NotSafe,
                $"process {pid} runs in seccomp strict mode (only read, write, _exit and sigreturn allowed): the allocator's own system calls would kill it");
        }

        CheckExecutable(options.ProcFileSystem, pid);
        return startTime;
    }
}

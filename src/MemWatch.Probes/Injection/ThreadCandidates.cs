using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Injection;

/// <summary>
/// The threads a call may be tried on, best first: the one used last, then sleeping threads whose system call
/// (<c>/proc/PID/task/TID/syscall</c>, number and arguments) the engine can interrupt and restart without a trace, then running ones. Threads
/// waiting with a temporary signal mask or in restart_syscall are left alone (<see cref="SyscallRestart.Refusal"/>), as
/// are stopped, uninterruptible and exiting ones. The registers at the stop are checked again, since a thread moves on.
/// </summary>
internal sealed class ThreadCandidates(ProcFileSystem fs, int pid)
{
    private readonly FileBuffer _buffer = new(4096);

    /// <summary>The ranked threads; empty when none is usable. Throws when the process is gone.</summary>
    public List<int> Rank(int lastUsed, out string? whyNone)
    {
        var ranked = new List<(int Rank, int Tid)>();
        int skipped = 0;
        try
        {
            foreach (string dir in Directory.EnumerateDirectories(fs.ProcessPath(pid, "task")))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int tid))
                {
                    continue;
                }

                char? state = ThreadStat.TryReadState(fs, pid, tid, _buffer);
                int rank = state switch
                {
                    'S' => tid == lastUsed ? 0 : 1,
                    'R' => 3,
                    _ => -1, // D (cannot stop), T/t (stopped), Z/X (exiting)
                };
                if (rank is 1 or 0)
                {
                    long nr = BlockedSyscall(tid, out ulong[] arguments);
                    if (nr == SyscallRestart.RestartSyscall || SyscallRestart.SwapsSignalMask(nr, arguments))
                    {
                        skipped++;
                        continue;
                    }

                    // A stop turns their wait into -EINTR until the engine rewrites it, microseconds later: a MemWatch
                    // killed in between would let it through. Other sleeping threads go first.
                    if (SyscallRestart.FailsWithEintrOnStop(nr))
                    {
                        rank = 2;
                    }
                }

                if (rank >= 0)
                {
                    ranked.Add((rank, tid));
                }
            }
        }
        catch (Exception e) when (FileBuffer.IsGone(e))
        {
            ranked.Clear();
        }

        ranked.Sort();
        whyNone = ranked.Count > 0 ? null
            : skipped > 0 ? $"its {skipped} sleeping thread(s) wait with a temporary signal mask (ppoll, pselect, epoll_pwait, sigsuspend) or in restart_syscall, and none is running"
            : "no thread is sleeping or running (all stopped, in uninterruptible sleep or exiting)";
        return ranked.ConvertAll(r => r.Tid);
    }

    /// <summary>
    /// The system call thread <paramref name="tid"/> is blocked in (<c>/proc/PID/task/TID/syscall</c>) and its
    /// <paramref name="arguments"/>; -1 (and no arguments) when unknown.
    /// </summary>
    public long BlockedSyscall(int tid, out ulong[] arguments)
    {
        arguments = [];
        try
        {
            string path = fs.ThreadPath(pid, tid, "syscall");
            if (!_buffer.TryLoad(path))
            {
                return -1;
            }

            ProcTaskSyscall syscall = ProcTaskSyscall.Parse(_buffer.Span, path);
            arguments = syscall.Arguments;
            return syscall.SyscallNumber;
        }
        catch (Exception e) when (e is ProcParseException or UnauthorizedAccessException or IOException)
        {
            return -1; // decided again from the registers at the stop
        }
    }
}

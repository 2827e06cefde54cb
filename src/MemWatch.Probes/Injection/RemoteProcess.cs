namespace MemWatch.Probes.Injection;

/// <summary>
/// Entry point of the ptrace remote-call engine (ptrace(2), process_vm_readv(2)): opens a session on a target
/// process whose threads are seized one at a time, only for the length of a call.
/// </summary>
public static class RemoteProcess
{
    /// <summary>
    /// Checks that <paramref name="pid"/> can be traced (not already traced, permissions, x86_64, a self-restoring
    /// return path in its libc) and stops one thread for a moment to prove it.
    /// </summary>
    /// <exception cref="RemoteCallException">Refused: <see cref="RemoteCallException.Reason"/> says why.</exception>
    public static IRemoteCallSession Open(int pid, RemoteCallOptions? options = null) =>
        PtraceSession.Open(pid, options ?? new RemoteCallOptions());
}

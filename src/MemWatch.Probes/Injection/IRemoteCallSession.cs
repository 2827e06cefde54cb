namespace MemWatch.Probes.Injection;

/// <summary>
/// One ptrace session on one thread of a target process, able to run functions inside it.
/// Every call is bounded by a timeout; on any failure the thread's registers and the memory the
/// session wrote are restored before the exception leaves. Disposing detaches and lets the thread run.
/// </summary>
/// <remarks>
/// Implementations run every ptrace request on one dedicated OS thread (ptrace is per tracer thread),
/// so callers may use a session from any thread, but not concurrently.
/// </remarks>
public interface IRemoteCallSession : IDisposable
{
    /// <summary>The target process.</summary>
    int Pid { get; }

    /// <summary>The thread used for calls.</summary>
    int Tid { get; }

    /// <summary>
    /// Calls the function at <paramref name="function"/> (an address in the target) with up to six
    /// integer or pointer arguments, System V x86_64 style (or the architecture's equivalent).
    /// <paramref name="scratch"/> is copied into a scratch block on the target thread's stack (below
    /// the red zone) before the call and copied back after it; a <see cref="RemoteArg.Scratch"/>
    /// argument becomes the address of that offset inside the block.
    /// </summary>
    /// <exception cref="RemoteCallException">The call failed, timed out or the target exited; the thread was restored.</exception>
    RemoteCallResult Call(ulong function, ReadOnlySpan<RemoteArg> args, Span<byte> scratch, TimeSpan timeout);

    /// <summary>Reads target memory (process_vm_readv, falling back to /proc/PID/mem).</summary>
    void ReadMemory(ulong address, Span<byte> destination);
}

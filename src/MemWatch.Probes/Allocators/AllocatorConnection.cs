using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// A target's allocator, ready to be asked: its symbols are resolved, its introspector chosen, and the ptrace session
/// (opened only when the allocator is supported) is gated by the allocator's code ranges so that no call starts in a
/// thread that is inside malloc. The one way the CLI and the daemon reach an allocator.
/// </summary>
public sealed class AllocatorConnection : IDisposable
{
    private readonly IRemoteCallSession? _session;

    private AllocatorConnection(IAllocatorIntrospector introspector, IRemoteCallSession? session)
    {
        Introspector = introspector;
        _session = session;
    }

    public IAllocatorIntrospector Introspector { get; }

    public int Pid => _session?.Pid ?? 0;

    /// <summary>The target thread the last remote call ran on (0 before any call or for an unsupported allocator).</summary>
    public int Tid => _session?.Tid ?? 0;

    /// <summary>
    /// Resolves <paramref name="pid"/>'s allocator and, when it is supported, opens a remote-call session on it. Set
    /// <see cref="RemoteCallOptions.ExpectedStartTimeTicks"/> to the start time of the process meant: a process that
    /// started at another time (its PID reused) is refused as gone before any call.
    /// </summary>
    /// <exception cref="RemoteCallException">ptrace was refused or the target is gone (<see cref="RemoteCallException.Reason"/>).</exception>
    public static AllocatorConnection Open(int pid, RemoteCallOptions? options = null)
    {
        options ??= new RemoteCallOptions();
        var buffer = new FileBuffer();

        // The identity is fixed before the symbols are read, so that they cannot come from a process that took the PID since.
        if (options.ExpectedStartTimeTicks is null && ProcStat.TryRead(options.ProcFileSystem, pid, buffer, out ProcStat? stat))
        {
            options = options with { ExpectedStartTimeTicks = stat.StartTimeTicks };
        }

        if (!TargetSymbols.TryLoad(options.ProcFileSystem, pid, buffer, out TargetSymbols? symbols))
        {
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"process {pid} is gone or its mappings cannot be read");
        }

        IAllocatorIntrospector introspector = AllocatorIntrospectors.ForTarget(symbols);
        if (!introspector.IsSupported)
        {
            // An exiting process has no mappings left, and one that has just run exec has the loader but no libc yet: both look
            // like "no glibc mapped". The process meant is gone either way.
            if (TargetProcess.IsGone(options.ProcFileSystem, pid))
            {
                throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"process {pid} no longer exists (or is exiting)");
            }

            if (symbols.FindModule("ld-linux") is not null && symbols.FindModule("libc.so") is null)
            {
                throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"process {pid} is starting a new program (exec): its libc is not mapped yet");
            }

            return new AllocatorConnection(introspector, null);
        }

        IRemoteCallSession session = RemoteProcess.Open(pid, options with
        {
            ForbiddenRanges = [.. options.ForbiddenRanges, .. introspector.UnsafeCodeRanges],
            Symbols = symbols,
            LockStepCallees = [.. options.LockStepCallees, .. (introspector as GlibcIntrospector)?.LockStepCallees ?? []],
        });
        return new AllocatorConnection(introspector, session);
    }

    /// <summary>The allocator's statistics; for an unsupported allocator, empty figures and the reason as a note.</summary>
    public AllocatorStatistics ReadStatistics(TimeSpan callTimeout) => Introspector.ReadStatistics(_session!, callTimeout);

    /// <summary>Asks the allocator to give free memory back; for an unsupported allocator, <see cref="ReleaseOutcome.NotSupported"/>.</summary>
    public ReleaseResult Release(TimeSpan callTimeout) => Introspector.Release(_session!, callTimeout);

    public void Dispose() => _session?.Dispose();
}

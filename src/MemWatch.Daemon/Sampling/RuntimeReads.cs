using MemWatch.Probes;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Symbols;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// A target's runtime heap figures, read passively at each full smaps pass (hsperfdata; runtime.memstats and pymalloc's
/// arenas through /proc/PID/mem). The runtime is recognised once per process from its modules; a plain native process
/// costs nothing after that. A Node process's figures, once an Introspect rule asked V8 for them, are left as they are.
/// Called on the sampler thread, without the target's lock (it reads files).
/// </summary>
internal static class RuntimeReads
{
    public static RuntimeSample? Read(ProcFileSystem fs, FileBuffer buffer, TargetState target, ProcStatus status, TimeProvider time)
    {
        if (target.Runtime is null)
        {
            try
            {
                if (TargetSymbols.TryLoad(fs, target.Pid, buffer, out TargetSymbols? symbols))
                {
                    target.Runtime = RuntimeProbe.Detect(symbols);
                    target.RuntimeSymbols = target.Runtime is RuntimeKind.CPython or RuntimeKind.Go ? symbols : null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcParseException)
            {
                target.Runtime = RuntimeKind.None;
            }
        }

        if (target.Runtime is not { } kind || kind == RuntimeKind.None)
        {
            return null;
        }

        // V8's figures come from remote calls of an Introspect rule (AllocatorActions); the passive reading has none.
        if (kind == RuntimeKind.Node && target.RuntimeHeap?.Reading.Figures is not null)
        {
            return null;
        }

        return new RuntimeSample(time.GetUtcNow().ToUnixTimeMilliseconds(), RuntimeProbe.Read(fs, target.Pid, kind, status, target.RuntimeSymbols));
    }
}

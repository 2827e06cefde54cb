using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Runtimes.Node;

/// <summary>
/// A Node process's V8 heap figures through remote calls (<c>--introspect</c>, or a daemon rule with
/// <c>Introspect</c>): the calls run only on the main thread, the isolate's for <c>node script.js</c>, and only while
/// it is idle in libuv's event loop (<see cref="EventLoopIdleRule"/>) and at glibc's safe point. Isolates of
/// worker_threads are not asked. Every refusal becomes the reading's problem; only a call left running in the target
/// after its timeout (<see cref="RemoteCallException.LeftInCallee"/>) is thrown, so that the caller can stop acting on
/// the process.
/// </summary>
public static class V8Introspection
{
    /// <summary>Attaches, asks V8, detaches. <paramref name="options"/> may pin the start time (a reused PID is refused).</summary>
    public static RuntimeReading Read(int pid, TimeSpan callTimeout, RemoteCallOptions? options = null)
    {
        options ??= new RemoteCallOptions();
        try
        {
            var buffer = new FileBuffer();
            if (options.ExpectedStartTimeTicks is null && ProcStat.TryRead(options.ProcFileSystem, pid, buffer, out ProcStat? stat))
            {
                options = options with { ExpectedStartTimeTicks = stat.StartTimeTicks };
            }

            if (!TargetSymbols.TryLoad(options.ProcFileSystem, pid, buffer, out TargetSymbols? symbols))
            {
                return Refused($"process {pid} is gone or its mappings cannot be read");
            }

            if (!V8HeapReader.TryCreate(symbols, out V8HeapReader? reader, out string? why)
                || !EventLoopIdleRule.TryCreate(symbols, pid, out EventLoopIdleRule? idle, out why))
            {
                return Refused(why);
            }

            TargetModule? libc = symbols.FindModule("libc.so.6");
            using IRemoteCallSession session = RemoteProcess.Open(pid, options with
            {
                ThreadId = pid,
                IdleLoop = idle,
                Symbols = symbols,
                ForbiddenRanges = [.. options.ForbiddenRanges, .. libc is null ? [] : GlibcIntrospector.MallocCodeRanges(libc)],
            });
            return new RuntimeReading(RuntimeKind.Node, reader.Read(session, callTimeout), null);
        }
        catch (RemoteCallException e) when (!e.LeftInCallee)
        {
            return Refused($"{e.Reason.ToName()}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            return Refused($"cannot read the mappings of process {pid}: {e.Message}");
        }
    }

    private static RuntimeReading Refused(string why) => new(RuntimeKind.Node, null, $"node: V8 not asked: {why}");
}

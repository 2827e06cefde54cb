using System.Reflection;
using MemWatch.Probes.Injection;

namespace MemWatch.IntegrationTests.Support;

/// <summary>
/// Opens a remote-call session through the ptrace engine of branch <c>inject</c>
/// (<c>RemoteProcess.Open(pid, RemoteCallOptions { ForbiddenRanges })</c>). Bound late so that these tests compile
/// before that branch is merged; until then they fail with a message saying so.
/// </summary>
internal static class RemoteEngine
{
    public static IRemoteCallSession Open(int pid, IReadOnlyList<(ulong Start, ulong End)> unsafeRanges)
    {
        Assembly probes = typeof(IRemoteCallSession).Assembly;
        Type? process = probes.GetType("MemWatch.Probes.Injection.RemoteProcess");
        Type? options = probes.GetType("MemWatch.Probes.Injection.RemoteCallOptions");
        if (process is null || options is null)
        {
            throw new InvalidOperationException("the ptrace engine (branch inject: RemoteProcess, RemoteCallOptions) is not merged into this build");
        }

        object opts = Activator.CreateInstance(options)!;
        options.GetProperty("ForbiddenRanges")!.SetValue(opts, unsafeRanges);
        try
        {
            return (IRemoteCallSession)process.GetMethod("Open", [typeof(int), options])!.Invoke(null, [pid, opts])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

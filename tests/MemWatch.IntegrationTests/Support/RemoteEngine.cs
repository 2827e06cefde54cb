using MemWatch.Probes.Injection;

namespace MemWatch.IntegrationTests.Support;

/// <summary>Opens a remote-call session with the allocator's code ranges as the engine's safety gate.</summary>
internal static class RemoteEngine
{
    public static IRemoteCallSession Open(int pid, IReadOnlyList<(ulong Start, ulong End)> unsafeRanges)
        => RemoteProcess.Open(pid, new RemoteCallOptions { ForbiddenRanges = unsafeRanges });
}

using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// One statistics reading from a target's allocator through remote calls, with every refusal turned into a result:
/// what <c>inspect --introspect</c> and the verdict call, so that a refused injection never stops a report.
/// </summary>
public static class AllocatorIntrospection
{
    /// <summary>The name <see cref="AllocatorIntrospectionResult.Failure"/> has when the allocator cannot be asked.</summary>
    public const string NotSupportedFailure = "allocator-not-supported";

    /// <summary>Attaches, reads the allocator's statistics, detaches. Never throws for a refused or failed call.</summary>
    public static AllocatorIntrospectionResult Read(int pid, TimeSpan callTimeout, RemoteCallOptions? options = null)
    {
        try
        {
            using AllocatorConnection connection = AllocatorConnection.Open(pid, options);
            if (!connection.Introspector.IsSupported)
            {
                return new AllocatorIntrospectionResult(null, NotSupportedFailure,
                    $"{connection.Introspector.Allocator}: {connection.Introspector.NotSupportedReason}");
            }

            return new AllocatorIntrospectionResult(connection.ReadStatistics(callTimeout), null, null);
        }
        catch (RemoteCallException e)
        {
            return new AllocatorIntrospectionResult(null, e.Reason.ToName(), e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return new AllocatorIntrospectionResult(null, RemoteCallFailure.PermissionDenied.ToName(), $"cannot read the mappings of process {pid}: {e.Message}");
        }
        catch (ProcParseException e)
        {
            // A malformed malloc_info document: the calls completed and the target was restored.
            return new AllocatorIntrospectionResult(null, RemoteCallFailure.CalleeFault.ToName(), $"unreadable allocator output: {e.Message}");
        }
    }
}

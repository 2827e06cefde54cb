namespace MemWatch.Probes.Injection;

/// <summary>The process-wide set of PIDs that have an open remote-call session: one injector per target.</summary>
internal static class TargetLock
{
    private static readonly HashSet<int> s_held = [];
    private static readonly Lock s_lock = new();

    public static bool TryAcquire(int pid)
    {
        lock (s_lock)
        {
            return s_held.Add(pid);
        }
    }

    public static void Release(int pid)
    {
        lock (s_lock)
        {
            s_held.Remove(pid);
        }
    }
}

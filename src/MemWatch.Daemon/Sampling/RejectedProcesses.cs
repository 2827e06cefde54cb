using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// Processes that matched no rule, by PID: looked at again only after a recheck interval, once a second look has
/// confirmed the first (a process may exec its final program just after it starts). A PID not listed in a tick is
/// forgotten.
/// </summary>
internal sealed class RejectedProcesses
{
    private readonly Dictionary<int, Rejection> _rejected = [];

    /// <summary>Whether <paramref name="pid"/> was rejected at two looks and its recheck time is still to come; notes it listed in <paramref name="tick"/>.</summary>
    public bool Skips(int pid, long tick, long now)
    {
        if (_rejected.Count == 0)
        {
            return false;
        }

        ref Rejection rejection = ref CollectionsMarshal.GetValueRefOrNullRef(_rejected, pid);
        if (Unsafe.IsNullRef(ref rejection))
        {
            return false;
        }

        rejection.ListedInTick = tick;
        return rejection.Confirmed && now < rejection.RecheckAt;
    }

    /// <summary><paramref name="pid"/> matched no rule in <paramref name="tick"/>; a second rejection in a row confirms it until <paramref name="recheckAt"/>.</summary>
    public void Reject(int pid, long tick, long recheckAt)
    {
        ref Rejection rejection = ref CollectionsMarshal.GetValueRefOrAddDefault(_rejected, pid, out bool before);
        rejection = new Rejection { ListedInTick = tick, Confirmed = before, RecheckAt = recheckAt };
    }

    public void Forget(int pid) => _rejected.Remove(pid);

    /// <summary>Forgets the PIDs that <paramref name="tick"/> did not list: their processes exited.</summary>
    public void ForgetUnlisted(long tick)
    {
        foreach (KeyValuePair<int, Rejection> entry in _rejected)
        {
            if (entry.Value.ListedInTick != tick)
            {
                _rejected.Remove(entry.Key);
            }
        }
    }

    private struct Rejection
    {
        public long RecheckAt;
        public long ListedInTick;
        public bool Confirmed;
    }
}

using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Allocators;

/// <summary>Makes remote calls and keeps the largest and total pause the target thread saw.</summary>
internal sealed class RemoteCallLedger(IRemoteCallSession session, TimeSpan timeout)
{
    public long PauseMicrosecondsMax { get; private set; }

    public long PauseMicrosecondsTotal { get; private set; }

    public long CalleeMicrosecondsTotal { get; private set; }

    public int Calls { get; private set; }

    public IRemoteCallSession Session => session;

    public RemoteCallResult Call(ulong function, ReadOnlySpan<RemoteArg> args, Span<byte> scratch)
    {
        RemoteCallResult r = session.Call(function, args, scratch, timeout);
        Calls++;
        PauseMicrosecondsMax = Math.Max(PauseMicrosecondsMax, r.PauseMicroseconds);
        PauseMicrosecondsTotal += r.PauseMicroseconds;
        CalleeMicrosecondsTotal += r.CalleeMicroseconds;
        return r;
    }
}

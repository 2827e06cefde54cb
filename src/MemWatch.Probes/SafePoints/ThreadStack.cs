namespace MemWatch.Probes.SafePoints;

/// <summary>
/// A thread's real stack: usable bytes are [<see cref="Low"/>, <see cref="High"/>) (the guard area, if any, lies below
/// Low). For the main thread Low is the start of the <c>[stack]</c> mapping as it is mapped now: a write by
/// process_vm_writev below it does not grow the stack (since Linux 6.5 get_user_pages never expands a stack).
/// </summary>
public sealed record ThreadStack(ThreadStackKind Kind, ulong Low, ulong High, ulong GuardSize, string Description)
{
    /// <summary>The x86-64 psABI red zone: 128 bytes below rsp a leaf function may use without moving rsp.</summary>
    public const ulong RedZone = 128;

    public static ThreadStack Unrecognised(string why) => new(ThreadStackKind.Unrecognised, 0, 0, 0, why);

    public bool IsRecognised => Kind != ThreadStackKind.Unrecognised;

    public bool Contains(ulong rsp) => IsRecognised && rsp > Low && rsp <= High;

    /// <summary>Bytes below rsp that may be written: down to Low, minus the red zone; 0 when rsp is not inside.</summary>
    public ulong FreeBelow(ulong rsp) => Contains(rsp) && rsp - Low > RedZone ? rsp - Low - RedZone : 0;
}

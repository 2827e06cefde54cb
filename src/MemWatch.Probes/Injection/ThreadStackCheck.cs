namespace MemWatch.Probes.Injection;

/// <summary>
/// Where the call frame may go: only on a stack the engine recognises, with room below rsp. The main thread's
/// <c>[stack]</c> (it grows on demand), or a writable anonymous mapping with a guard mapping directly below it, which is
/// how glibc, musl and pthread_attr_setguardsize lay out thread stacks. A stack the application allocated itself
/// (pthread_attr_setstack on a malloc'd block, coroutine stacks) sits in <c>[heap]</c> or an unguarded mapping next to
/// other data, whose extent the mapping does not tell: such a thread is not used.
/// </summary>
internal static class ThreadStackCheck
{
    /// <summary>Null when a frame of <paramref name="needed"/> bytes fits below rsp; otherwise why not.</summary>
    public static string? Check(TargetMaps maps, ulong rsp, ulong needed)
    {
        if (maps.Find(rsp) is not TargetMapping stack || !stack.Writable)
        {
            return $"rsp 0x{rsp:x} is not in a writable mapping";
        }

        if (stack.IsMainStack)
        {
            return null;
        }

        if (stack.Path is not null || stack.Inode != 0)
        {
            return $"rsp 0x{rsp:x} is in {stack.Path ?? "a file mapping"}, not in a thread stack (a stack the application allocated itself?)";
        }

        if (maps.Below(stack) is not { IsGuard: true })
        {
            return $"rsp 0x{rsp:x} is in an anonymous mapping with no guard page below it, not a recognised thread stack (a stack the application allocated itself?)";
        }

        return rsp - stack.Start < needed ? $"only {rsp - stack.Start} bytes of stack below rsp, {needed} needed" : null;
    }
}

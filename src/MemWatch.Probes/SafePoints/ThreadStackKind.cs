namespace MemWatch.Probes.SafePoints;

public enum ThreadStackKind
{
    /// <summary>rsp is in no stack this rule recognises (a coroutine stack swapped in with swapcontext, a libc other than glibc).</summary>
    Unrecognised,

    /// <summary>The main thread on the kernel's <c>[stack]</c> mapping.</summary>
    MainThread,

    /// <summary>A glibc thread on the block recorded in its <c>struct pthread</c> (allocated by glibc or given with pthread_attr_setstack).</summary>
    PthreadBlock,
}

namespace MemWatch.Probes.Injection;

/// <summary>What a remote call returned, and what it cost the target thread.</summary>
/// <param name="ReturnValue">The integer return register (rax on x86_64).</param>
/// <param name="PauseMicroseconds">How long the target thread was kept from its own work, from the stop to the resume.</param>
/// <param name="CalleeMicroseconds">How long the callee itself ran, from the resume into it until its return trapped.</param>
public readonly record struct RemoteCallResult(ulong ReturnValue, long PauseMicroseconds, long CalleeMicroseconds)
{
    /// <summary>Where the pause went (the ptrace engine fills it in; a dozen clock reads per call).</summary>
    public RemoteCallPhases Phases { get; init; }
}

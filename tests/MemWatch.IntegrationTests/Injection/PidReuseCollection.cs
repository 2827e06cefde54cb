namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// Tests that hand a PID to a new process through ns_last_pid run alone, after the parallel ones: every process another
/// test starts meanwhile can take the PID first.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PidReuseCollection
{
    public const string Name = "pid-reuse";
}

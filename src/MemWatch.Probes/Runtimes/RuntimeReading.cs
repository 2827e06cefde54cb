namespace MemWatch.Probes.Runtimes;

/// <summary>What <see cref="RuntimeProbe"/> found for a process: its runtime, its heap figures, and why there are none.</summary>
/// <param name="Runtime">The runtime recognised; <see cref="RuntimeKind.None"/> for a plain native process.</param>
/// <param name="Figures">The runtime's heap figures; null when it publishes none readable (see <paramref name="Problem"/>).</param>
/// <param name="Problem">Why there are no figures (no hsperfdata, no debug symbols, unsupported version...), or null.</param>
public sealed record RuntimeReading(RuntimeKind Runtime, RuntimeHeapFigures? Figures, string? Problem)
{
    public static readonly RuntimeReading None = new(RuntimeKind.None, null, null);
}

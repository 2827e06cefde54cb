namespace MemWatch.Probes.Allocators.Models;

/// <summary>One observation that shows a retention mechanism at work.</summary>
public sealed record RetentionObservation(ObservationSource Source, string Description);

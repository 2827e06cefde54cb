using MemWatch.Probes.DotNet;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// What a .NET target's runtime said about its GC heap at the last counter read (every IntrospectInterval, rules with
/// Introspect only). The classifier input takes <see cref="Figures"/> as its managed heap figures.
/// </summary>
/// <param name="Endpoint">The diagnostic socket the figures came through.</param>
/// <param name="ReadSeconds">How long the EventPipe session took.</param>
internal sealed record DotNetReading(long UnixMilliseconds, DiagnosticEndpoint Endpoint, ManagedHeapFigures Figures, double ReadSeconds);

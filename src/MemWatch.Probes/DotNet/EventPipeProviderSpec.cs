namespace MemWatch.Probes.DotNet;

/// <summary>One EventPipe provider to enable.</summary>
/// <param name="Name">The provider (EventSource) name.</param>
/// <param name="Keywords">Keyword mask; pass it explicitly (DiagnosticsClient defaults to 0xF00000000000).</param>
/// <param name="Level">EventLevel: 0 always .. 5 verbose.</param>
/// <param name="Arguments">Sent as filter data <c>key=value;key=value</c> (e.g. <c>EventCounterIntervalSec=1</c>).</param>
public sealed record EventPipeProviderSpec(string Name, ulong Keywords, uint Level, IReadOnlyDictionary<string, string>? Arguments = null)
{
    /// <summary>EventLevel.Informational.</summary>
    public const uint Informational = 4;

    internal string? FilterData => Arguments is null || Arguments.Count == 0
        ? null
        : string.Join(';', Arguments.Select(kv => kv.Key + "=" + kv.Value));
}

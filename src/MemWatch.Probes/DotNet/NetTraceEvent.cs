namespace MemWatch.Probes.DotNet;

/// <summary>
/// One event of a nettrace stream: its metadata, timestamp and payload bytes. The payload points into the reader's
/// block buffer and is valid only during the <see cref="NetTraceReader.EventRead"/> callback.
/// </summary>
internal readonly struct NetTraceEvent
{
    public NetTraceEvent(NetTraceMetadata metadata, long timestamp, double timestampMilliseconds, ReadOnlyMemory<byte> payload)
    {
        Metadata = metadata;
        Timestamp = timestamp;
        TimestampMilliseconds = timestampMilliseconds;
        Payload = payload;
    }

    public NetTraceMetadata Metadata { get; }

    /// <summary>The runtime's clock (QPC ticks: nanoseconds on Linux).</summary>
    public long Timestamp { get; }

    /// <summary>Milliseconds since the trace's sync time.</summary>
    public double TimestampMilliseconds { get; }

    public ReadOnlyMemory<byte> Payload { get; }

    public string ProviderName => Metadata.ProviderName;

    public int EventId => Metadata.EventId;

    public string EventName => Metadata.EventName;
}

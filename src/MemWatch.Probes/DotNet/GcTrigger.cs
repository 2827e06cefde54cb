using System.Buffers.Binary;
using System.Diagnostics;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// Induces one full blocking GC in a .NET process the way dotnet-gcdump does: an EventPipe session enabling
/// <c>Microsoft-Windows-DotNETRuntime</c> with the GCHeapCollect keyword, which makes the runtime run
/// <c>ETW::GCLog::ForceGC</c> once as the session starts (dotnet/runtime, src/coreclr/vm/eventtrace.cpp). Without GCHeapDump no heap walk is
/// sent. The GC keyword adds GCStart/GCEnd, which confirm the collection. The heap is read through
/// <see cref="ManagedHeapReader"/> before and after.
/// </summary>
public sealed class GcTrigger
{
    internal const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const ulong GcKeyword = 0x1;
    private const ulong GcHeapCollectKeyword = 0x800000;
    private const int ReasonInduced = 1;

    /// <summary>The runtime's GCStart (payload: count, depth, reason, type, ...) and GCEnd (count, depth, ...).</summary>
    private const int GcStartEventId = 1;
    private const int GcEndEventId = 2;

    private static readonly EventPipeProviderSpec[] s_providers =
    [
        new(RuntimeProvider, GcKeyword | GcHeapCollectKeyword, EventPipeProviderSpec.Informational),
    ];

    private readonly ManagedHeapReader _reader;

    public GcTrigger(ManagedHeapReader? reader = null)
    {
        _reader = reader ?? new ManagedHeapReader();
    }

    /// <param name="endpoint">The runtime.</param>
    /// <param name="timeout">For each of the three sessions (before, the GC, after).</param>
    /// <exception cref="DotNetDiagnosticsException">The runtime could not be reached or refused.</exception>
    public GcTriggerResult Trigger(DiagnosticEndpoint endpoint, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        ManagedHeapFigures before = _reader.Read(endpoint, timeout);

        var watch = new InducedGcWatch();
        EventPipeCapture.Run(endpoint, s_providers, timeout, watch.Subscribe);

        ManagedHeapFigures after = _reader.Read(endpoint, timeout);
        (double? startMs, double? endMs) = watch.Window;
        bool observed = startMs is not null && endMs is not null;
        return new GcTriggerResult(
            before.GcHeapBytes,
            after.GcHeapBytes,
            before.GcCommittedBytes,
            after.GcCommittedBytes,
            observed,
            observed ? TimeSpan.FromMilliseconds(endMs!.Value - startMs!.Value) : null,
            clock.Elapsed);
    }

    /// <summary>The induced full GC's start and end in a session's events (GCStart depth 2, reason Induced, then its GCEnd).</summary>
    internal sealed class InducedGcWatch
    {
        private readonly Lock _gate = new();
        private double? _startMs;
        private double? _endMs;
        private int _depth = -1;

        public (double? StartMs, double? EndMs) Window
        {
            get
            {
                lock (_gate)
                {
                    return (_startMs, _endMs);
                }
            }
        }

        public void Subscribe(NetTraceReader source, Action done)
        {
            source.EventRead += e =>
            {
                ReadOnlySpan<byte> p = e.Payload.Span;
                if (e.ProviderName != RuntimeProvider || p.Length < 8)
                {
                    return;
                }

                int depth = BinaryPrimitives.ReadInt32LittleEndian(p[4..]);
                lock (_gate)
                {
                    if (e.EventId == GcStartEventId && p.Length >= 12 && _startMs is null && depth == 2
                        && BinaryPrimitives.ReadInt32LittleEndian(p[8..]) == ReasonInduced)
                    {
                        _startMs = e.TimestampMilliseconds;
                        _depth = depth;
                    }
                    else if (e.EventId == GcEndEventId && _startMs is not null && _endMs is null && depth == _depth)
                    {
                        _endMs = e.TimestampMilliseconds;
                        done();
                    }
                }
            };
        }
    }
}

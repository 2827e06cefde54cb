using System.Diagnostics;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// Induces one full blocking GC in a .NET process the way dotnet-gcdump does: an EventPipe session enabling
/// <c>Microsoft-Windows-DotNETRuntime</c> with the GCHeapCollect keyword, which makes the runtime run
/// <c>ETW::GCLog::ForceGC</c> once as the session starts (allocator-internals §6.3). Without GCHeapDump no heap walk is
/// sent. The GC keyword adds GCStart/GCEnd, which confirm the collection. The heap is read through
/// <see cref="ManagedHeapReader"/> before and after.
/// </summary>
public sealed class GcTrigger
{
    private const ulong GcKeyword = (ulong)ClrTraceEventParser.Keywords.GC;
    private const ulong GcHeapCollectKeyword = (ulong)ClrTraceEventParser.Keywords.GCHeapCollect;
    private const int ReasonInduced = 1;

    private static readonly EventPipeProviderSpec[] s_providers =
    [
        new(ClrTraceEventParser.ProviderName, GcKeyword | GcHeapCollectKeyword, EventPipeProviderSpec.Informational),
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

        var gate = new object();
        double? startMs = null;
        double? endMs = null;
        int depth = -1;
        EventPipeCapture.Run(endpoint, s_providers, timeout, (source, done) =>
        {
            source.Clr.GCStart += (GCStartTraceData e) =>
            {
                lock (gate)
                {
                    if (startMs is null && e.Depth == 2 && (int)e.Reason == ReasonInduced)
                    {
                        startMs = e.TimeStampRelativeMSec;
                        depth = e.Depth;
                    }
                }
            };
            source.Clr.GCStop += (GCEndTraceData e) =>
            {
                lock (gate)
                {
                    if (startMs is not null && endMs is null && e.Depth == depth)
                    {
                        endMs = e.TimeStampRelativeMSec;
                        done();
                    }
                }
            };
        });

        ManagedHeapFigures after = _reader.Read(endpoint, timeout);
        lock (gate)
        {
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
    }
}

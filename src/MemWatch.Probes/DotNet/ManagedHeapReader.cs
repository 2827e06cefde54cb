namespace MemWatch.Probes.DotNet;

/// <summary>
/// Reads <see cref="ManagedHeapFigures"/> from a .NET runtime: a short EventPipe session on the <c>System.Runtime</c>
/// EventCounters (half-second interval) that ends as soon as one full interval of GC counters has arrived, or after
/// <c>maxDuration</c>. Each read opens and closes its own session, so no session outlives a read. Thread safe.
/// </summary>
public sealed class ManagedHeapReader
{
    internal static readonly string[] CounterNames =
    [
        "gc-heap-size", "gc-committed", "gc-fragmentation", "gen-0-size", "gen-1-size", "gen-2-size", "loh-size",
        "poh-size", "alloc-rate", "gen-0-gc-count", "gen-1-gc-count", "gen-2-gc-count", "working-set",
    ];

    private const double MB = 1_000_000;

    /// <summary>Shorter than an interval this, a rate is noise (the runtime can send a first batch right at enable).</summary>
    private const double MinRateIntervalSeconds = 0.1;

    private static readonly EventPipeProviderSpec[] s_providers =
    [
        new("System.Runtime", 0, EventPipeProviderSpec.Informational, new Dictionary<string, string> { ["EventCounterIntervalSec"] = IntervalSeconds }),
    ];

    /// <summary>
    /// The counter interval. Measured: with 1 s a full interval arrived about 2.1 s after the session started, with 0.5 s
    /// after about 0.6-0.8 s (the runtime delivered the first interval together with the second).
    /// </summary>
    internal const string IntervalSeconds = "0.5";

    /// <summary>Time allowed by default: a full interval arrives within about a second, later on a loaded machine.</summary>
    public static TimeSpan DefaultMaxDuration { get; } = TimeSpan.FromSeconds(10);

    /// <exception cref="DotNetDiagnosticsException">The runtime could not be reached, refused, or sent no GC heap size in time.</exception>
    public ManagedHeapFigures Read(DiagnosticEndpoint endpoint, TimeSpan? maxDuration = null)
    {
        var batches = new CounterBatches();
        bool complete = EventPipeCapture.Run(endpoint, s_providers, maxDuration ?? DefaultMaxDuration, batches.Subscribe);
        return batches.Figures(complete)
            ?? throw new DotNetDiagnosticsException(
                DotNetDiagnosticsFailure.Timeout,
                $"no System.Runtime GC counters from pid {endpoint.Pid} within {(maxDuration ?? DefaultMaxDuration).TotalSeconds:0.#} s");
    }

    /// <summary>The counters of the current and the previous interval, filled from a session's events.</summary>
    internal sealed class CounterBatches
    {
        private readonly Lock _gate = new();
        private Dictionary<string, CounterValue> _current = new(StringComparer.Ordinal);
        private Dictionary<string, CounterValue>? _previous;

        /// <summary>Attaches to <paramref name="source"/>; calls <paramref name="done"/> once an interval brought every counter.</summary>
        public void Subscribe(NetTraceReader source, Action done)
        {
            source.EventRead += e =>
            {
                if (!TryReadCounter(e, out string? name, out CounterValue value))
                {
                    return;
                }

                lock (_gate)
                {
                    if (_current.ContainsKey(name))
                    {
                        // A name seen twice starts the next interval.
                        _previous = _current;
                        _current = new Dictionary<string, CounterValue>(StringComparer.Ordinal);
                    }

                    _current[name] = value;

                    // An interval cut short (the runtime may report as soon as a session enables the counters) gives
                    // no rate: wait for the next one.
                    if (CounterNames.All(_current.ContainsKey) && _current["alloc-rate"].IntervalSeconds >= MinRateIntervalSeconds)
                    {
                        done();
                    }
                }
            };
        }

        /// <summary>The figures of the complete (or latest) interval with a GC heap size; null when none came.</summary>
        public ManagedHeapFigures? Figures(bool complete)
        {
            lock (_gate)
            {
                Dictionary<string, CounterValue>? batch = complete || _current.ContainsKey("gc-heap-size") ? _current : _previous;
                return batch is not null && batch.ContainsKey("gc-heap-size") ? ToFigures(batch) : null;
            }
        }
    }

    internal static ManagedHeapFigures ToFigures(IReadOnlyDictionary<string, CounterValue> c)
    {
        ulong? Bytes(string name, double scale = 1) => c.TryGetValue(name, out CounterValue v) ? ToBytes(v.Value * scale) : null;
        ulong? Count(string name) => c.TryGetValue(name, out CounterValue v) ? ToBytes(v.Value) : null;

        ulong?[] gens = [Bytes("gen-0-size"), Bytes("gen-1-size"), Bytes("gen-2-size"), Bytes("loh-size"), Bytes("poh-size")];
        ulong? generations = gens.All(g => g is not null) ? gens.Aggregate(0UL, (sum, g) => sum + g!.Value) : null;
        ulong? fragmentation = c.TryGetValue("gc-fragmentation", out CounterValue f) && generations is { } total
            ? ToBytes(f.Value / 100 * total)
            : null;
        ulong?[] counts = [Count("gen-0-gc-count"), Count("gen-1-gc-count"), Count("gen-2-gc-count")];
        double interval = c.TryGetValue("alloc-rate", out CounterValue rate) ? rate.IntervalSeconds : 0;

        return new ManagedHeapFigures
        {
            GcHeapBytes = Bytes("gc-heap-size", MB) ?? 0,
            // The runtime reports committed bytes as of the last GC: 0 until the first GC, which means unknown here.
            GcCommittedBytes = Bytes("gc-committed", MB) is { } committed and > 0 ? committed : null,
            Gen0Bytes = gens[0],
            Gen1Bytes = gens[1],
            Gen2Bytes = gens[2],
            LohBytes = gens[3],
            PohBytes = gens[4],
            FragmentationBytes = fragmentation,
            AllocationRateBytesPerSecond = c.TryGetValue("alloc-rate", out CounterValue a) && interval >= MinRateIntervalSeconds ? a.Value / interval : null,
            // Each generation's collection also counts as one of every younger generation: gen0 counts them all.
            GcCount = counts[0],
            Gen2GcCount = counts[2],
            WorkingSetBytes = Bytes("working-set", MB),
            IntervalSeconds = interval,
            TakenAt = DateTimeOffset.UtcNow,
        };
    }

    /// <summary>
    /// Reads one <c>EventCounters</c> event of System.Runtime: its one (unnamed) field is an object whose field
    /// <c>Payload</c> holds the counter's fields; Mean counters carry <c>Mean</c>, Sum counters <c>Increment</c>.
    /// </summary>
    private static bool TryReadCounter(NetTraceEvent e, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name, out CounterValue value)
    {
        name = null;
        value = default;
        if (e.EventName != "EventCounters" || e.ProviderName != "System.Runtime"
            || e.Metadata.Fields is not [NetTraceField top]
            || NetTracePayload.TryDecode(e.Metadata, e.Payload.Span) is not { } fields
            || !fields.TryGetValue(top.Name, out object? o) || o is not IReadOnlyDictionary<string, object> outer
            || !outer.TryGetValue("Payload", out object? inner) || inner is not IReadOnlyDictionary<string, object> payload
            || !payload.TryGetValue("Name", out object? n) || n is not string counter
            || !CounterNames.Contains(counter, StringComparer.Ordinal))
        {
            return false;
        }

        if (!NetTracePayload.TryGetNumber(payload, "Increment", out double raw) && !NetTracePayload.TryGetNumber(payload, "Mean", out raw))
        {
            return false;
        }

        name = counter;
        value = new CounterValue(raw, NetTracePayload.TryGetNumber(payload, "IntervalSec", out double interval) ? interval : 0);
        return true;
    }

    private static ulong ToBytes(double value) => double.IsFinite(value) && value > 0 ? (ulong)Math.Round(value) : 0;
}

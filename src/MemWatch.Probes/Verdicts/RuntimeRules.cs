using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Runtimes;
using static MemWatch.Probes.Verdicts.VerdictText;

namespace MemWatch.Probes.Verdicts;

/// <summary>
/// Rules that read a language runtime's own heap figures (<see cref="RuntimeHeapFigures"/>): growth of a GC heap
/// below its maximum (managed-heap-growth, with the distance to it), growth of live objects with no maximum (leak),
/// free space a runtime allocator holds (allocator-retention: pymalloc arenas pinned by survivors, Go idle spans), and
/// a GC heap at a steady size (stable). docs/verdicts.md describes each.
/// </summary>
internal static class RuntimeRules
{
    /// <summary>RSS grows: does the runtime's heap carry it? <paramref name="introspectedInUseGrowth"/> is the growth of
    /// malloc's in-use bytes over the window (NaN when not introspected).</summary>
    public static Verdict? Growth(ClassifierInput input, ClassifierOptions o, double span, double rssGrowth, string rssLine, double introspectedInUseGrowth)
    {
        if (input.Runtime == RuntimeKind.None)
        {
            return null;
        }

        bool introspected = input.LatestStatistics is not null;
        if (input.RuntimeHeap is { } now && input.EarliestRuntimeHeap is { } then)
        {
            double used = Delta(now.UsedBytes, then.UsedBytes);
            double committed = Delta(now.CommittedBytes, then.CommittedBytes);
            double carried = Math.Max(used, committed);
            if (carried < o.ExplainingShare * rssGrowth)
            {
                return null;
            }

            string heapLine = HeapLine(now, then);
            ulong? max = MaxOf(input, now);
            string name = Name(input.Runtime);
            if (max is { } m && input.Runtime != RuntimeKind.CPython)
            {
                double size = now.CommittedBytes ?? now.UsedBytes ?? 0;
                double left = Math.Max(0, m - size);
                double slope = carried / Math.Max(span, 1);
                return new Verdict(VerdictKind.ManagedHeapGrowth, null, o.RuntimeConfidence,
                    Invariant($"The {name} heap grows ({Bytes(carried)} of the {Bytes(rssGrowth)} RSS growth), {Bytes(left)} below its maximum {Bytes(m)} ({MaxSource(input, now)}): at {Rate(slope)} it gets there in about {Duration(left / Math.Max(slope, 1))}; the GC will work harder as it nears it, and fail with out-of-memory if the growth is live."),
                    [rssLine, heapLine, Invariant($"heap maximum {Bytes(m)} ({MaxSource(input, now)}), {Percent(size / m)} reached")],
                    [
                        new(HeapDumpAdvice(input.Runtime), "shows what the growing heap keeps alive", false),
                        new("size the heap maximum below the cgroup's limit, with room for native memory", "an out-of-memory error in the runtime instead of a kill by the kernel", false),
                    ],
                    "a second watch once the heap is near its maximum: a heap that stops there is a cache or a working set; one that keeps collecting and failing is a leak", introspected);
            }

            return new Verdict(VerdictKind.Leak, null, o.RuntimeConfidence,
                Invariant($"The {name} heap's objects grow with RSS ({Bytes(carried)} of {Bytes(rssGrowth)}) and nothing bounds it: a leak (or an unbounded cache)."),
                [rssLine, heapLine],
                [new(HeapDumpAdvice(input.Runtime), "shows what keeps the objects alive", false)],
                null, introspected);
        }

        // No figures (V8 publishes none outside the process; a JVM without hsperfdata, a Go binary without symbols): a
        // GC heap lives in anonymous mappings that fault in as it grows. malloc's in-use rising says the growth is
        // native (Buffers, addons, JNI) instead.
        if (input.Runtime is RuntimeKind.Node or RuntimeKind.Jvm or RuntimeKind.Go && !(introspectedInUseGrowth >= o.ExplainingShare * rssGrowth))
        {
            double anon = input.Window.Count < 2 ? 0 : (double)input.Window.Newest.AnonBytes - input.Window.Oldest.AnonBytes;
            if (anon < o.ExplainingShare * rssGrowth)
            {
                return null;
            }

            ulong? max = input.DeclaredLimit?.Bytes;
            string distance = max is { } m
                ? Invariant($", below its maximum {Bytes(m)} ({input.DeclaredLimit!.Source})")
                : " (its maximum is the runtime's default, sized from the machine's memory)";
            return new Verdict(VerdictKind.ManagedHeapGrowth, null, o.PassiveLeakConfidence,
                Invariant($"Anonymous memory outside malloc grows{(introspected ? " while malloc's in-use does not" : "")}: the {Name(input.Runtime)} heap{distance}. Whether it is live objects or garbage not yet collected needs the runtime's own figures."),
                [rssLine, Invariant($"anonymous RSS grew {Bytes(anon)}")],
                [new(HeapDumpAdvice(input.Runtime), "shows what the growing heap keeps alive", false)],
                "the runtime's heap statistics (V8: process.memoryUsage() or a heap snapshot) would tell live objects from garbage", introspected);
        }

        return null;
    }

    /// <summary>RSS holds still: does the runtime keep free memory, or is its heap simply at a steady size?</summary>
    public static Verdict? Plateau(ClassifierInput input, ClassifierOptions o, double anon, string levelLine)
    {
        if (input.RuntimeHeap is not { } now)
        {
            return null;
        }

        string heapLine = HeapLine(now, input.EarliestRuntimeHeap);
        bool introspected = input.LatestStatistics is not null;
        if (now.Runtime == RuntimeKind.CPython && now.FreeBytes is { } free && free >= o.MinRetainedBytes && free >= o.RetainedShareOfAnon * anon)
        {
            return new Verdict(VerdictKind.AllocatorRetention, RetentionMechanismKind.PymallocArenaPinned, o.RuntimeConfidence,
                Invariant($"pymalloc holds {Bytes(free)} of free space in {now.Arenas} arenas that the surviving objects pin: {Bytes(now.UsedBytes ?? 0)} of blocks in use keep {Bytes(now.CommittedBytes ?? 0)} of arenas. Allocator retention, not a leak."),
                [heapLine, Invariant($"{now.PoolsInUse} pools hold blocks ({Bytes(now.PoolsInUseBytes ?? 0)}), {now.PoolsFree} pools empty; an arena is returned only when all its pools are empty"), levelLine],
                [
                    new("restart the worker periodically (gunicorn --max-requests, uwsgi max-requests)", "returns the arenas at once", false),
                    new("keep long-lived small objects apart from bulk temporary ones (build them first, or in a subprocess)", "fewer arenas pinned by a few survivors", false),
                    new("PYTHONMALLOC=malloc", "small objects go to malloc, whose free memory malloc_trim can return (slower allocation)", false),
                ],
                null, introspected);
        }

        if (now.Runtime == RuntimeKind.Go && now.IdleBytes is { } idle && idle >= o.MinRetainedBytes && idle >= o.RetainedShareOfAnon * anon)
        {
            return new Verdict(VerdictKind.AllocatorRetention, RetentionMechanismKind.GoHeapIdle, o.RuntimeConfidence,
                Invariant($"The Go heap keeps {Bytes(idle)} of idle spans not yet returned to the kernel ({Percent(idle / Math.Max(1, anon))} of anonymous RSS): its scavenger returns them over minutes. Allocator retention, not a leak."),
                [heapLine, levelLine],
                [
                    new("debug.FreeOSMemory() in the program, or GOMEMLIMIT", "returns idle spans at once, or as the limit nears", false),
                ],
                null, introspected);
        }

        ulong? max = MaxOf(input, now);
        string maxText = max is { } m ? Invariant($", {Bytes(m - Math.Min(m, now.CommittedBytes ?? 0))} below its maximum {Bytes(m)}") : "";
        return new Verdict(VerdictKind.Stable, null, o.IntrospectedStableConfidence,
            Invariant($"The {Name(now.Runtime)} heap holds a steady size{maxText}; RSS does not grow."),
            [levelLine, heapLine],
            [], null, introspected);
    }

    /// <summary>
    /// CPython without pymalloc's figures (no debug symbols): anonymous memory grows outside malloc, which is where
    /// pymalloc's arenas come from. Live objects are the likely cause; the arenas' figures would say for sure.
    /// </summary>
    public static Verdict PymallocGrowthUnmeasured(ClassifierOptions o, string rssLine, string allocatorLine, double anonGrowth) =>
        new(VerdictKind.Leak, null, o.PassiveLeakConfidence,
            Invariant($"Anonymous memory grows outside malloc ({Bytes(anonGrowth)}) in a CPython process: pymalloc takes its arenas with mmap, so small objects kept alive grow there. Most likely a leak."),
            [rssLine, allocatorLine],
            [new("tracemalloc snapshots, twice, compared (or objgraph.show_growth())", "shows what keeps the objects alive", false)],
            "pymalloc's arena figures (the interpreter's debug symbols installed) would measure the blocks in use", true);

    private static ulong? MaxOf(ClassifierInput input, RuntimeHeapFigures now) =>
        input.DeclaredLimit is { Bounds: DeclaredLimit.Heap } d ? d.Bytes : now.MaxBytes;

    private static string MaxSource(ClassifierInput input, RuntimeHeapFigures now) =>
        input.DeclaredLimit is { Bounds: DeclaredLimit.Heap } d ? d.Source : $"the runtime's, from {now.Source}";

    private static string HeapLine(RuntimeHeapFigures now, RuntimeHeapFigures? then)
    {
        static string Figure(ulong? v) => v is { } b ? Bytes(b) : "?";
        return then is null
            ? Invariant($"{Name(now.Runtime)} heap ({now.Source}): used {Figure(now.UsedBytes)}, committed {Figure(now.CommittedBytes)}")
            : Invariant($"{Name(now.Runtime)} heap ({now.Source}): used {Figure(then.UsedBytes)} -> {Figure(now.UsedBytes)}, committed {Figure(then.CommittedBytes)} -> {Figure(now.CommittedBytes)}");
    }

    private static double Delta(ulong? now, ulong? then) => now is { } a && then is { } b ? (double)a - b : 0;

    private static string Name(RuntimeKind kind) => kind switch
    {
        RuntimeKind.CPython => "CPython (pymalloc)",
        RuntimeKind.Node => "V8",
        RuntimeKind.Jvm => "JVM",
        RuntimeKind.Go => "Go",
        _ => "runtime",
    };

    private static string HeapDumpAdvice(RuntimeKind kind) => kind switch
    {
        RuntimeKind.Jvm => "jcmd PID GC.class_histogram, twice, and compare (or a heap dump)",
        RuntimeKind.Node => "two heap snapshots (node --heapsnapshot-signal=SIGUSR2) compared in DevTools",
        RuntimeKind.Go => "two heap profiles (net/http/pprof /debug/pprof/heap) compared with go tool pprof -base",
        RuntimeKind.CPython => "tracemalloc snapshots, twice, compared (or objgraph.show_growth())",
        _ => "two heap dumps compared",
    };
}

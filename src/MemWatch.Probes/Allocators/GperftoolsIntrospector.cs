using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Injection;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// gperftools tcmalloc through its C API (gperftools/malloc_extension_c.h): <c>MallocExtension_GetNumericProperty</c>
/// for the generic.* and tcmalloc.* figures, and <c>MallocExtension_ReleaseFreeMemory</c>, which returns the free spans
/// of the page heap (thread, central and transfer caches stay).
/// </summary>
internal sealed class GperftoolsIntrospector : IAllocatorIntrospector
{
    private const int ScratchBytes = 64;
    private const int ValueSlot = 0;
    private const int NameSlot = 8;

    private static readonly string[] s_properties =
    [
        "generic.current_allocated_bytes", "generic.heap_size", "generic.total_physical_bytes", "tcmalloc.pageheap_free_bytes",
        "tcmalloc.pageheap_unmapped_bytes", "tcmalloc.thread_cache_free_bytes", "tcmalloc.central_cache_free_bytes",
        "tcmalloc.transfer_cache_free_bytes", "tcmalloc.max_total_thread_cache_bytes", "tcmalloc.current_total_thread_cache_bytes",
        "tcmalloc.slack_bytes",
    ];

    private readonly ulong _getNumericProperty;
    private readonly ulong _releaseFreeMemory;

    private GperftoolsIntrospector(ulong getNumericProperty, ulong releaseFreeMemory, IReadOnlyList<(ulong Start, ulong End)> codeRanges)
    {
        _getNumericProperty = getNumericProperty;
        _releaseFreeMemory = releaseFreeMemory;
        UnsafeCodeRanges = codeRanges;
    }

    public string Allocator => "tcmalloc";

    public bool IsSupported => true;

    public string? NotSupportedReason => null;

    public IReadOnlyList<(ulong Start, ulong End)> UnsafeCodeRanges { get; }

    public static bool TryCreate(TargetSymbols symbols, [NotNullWhen(true)] out GperftoolsIntrospector? introspector)
    {
        introspector = null;
        if (!symbols.TryResolveExport("MallocExtension_GetNumericProperty", out TargetSymbolAddress get)
            || !TargetSymbols.TryResolve(get.Module, "MallocExtension_ReleaseFreeMemory", out TargetSymbolAddress release, useDebugFile: false))
        {
            return false;
        }

        TargetModule m = get.Module;
        IReadOnlyList<(ulong, ulong)> ranges = m.FileName.StartsWith("libtcmalloc", StringComparison.Ordinal)
            ? m.ExecutableRanges
            : TargetSymbols.FunctionRanges(m, n => n.StartsWith("tc_", StringComparison.Ordinal) || n.StartsWith("MallocExtension", StringComparison.Ordinal)
                || n.StartsWith("_ZN8tcmalloc", StringComparison.Ordinal) || n is "malloc" or "free" or "calloc" or "realloc");
        introspector = new GperftoolsIntrospector(get.Address, release.Address, ranges);
        return true;
    }

    public AllocatorStatistics ReadStatistics(IRemoteCallSession session, TimeSpan callTimeout)
    {
        var ledger = new RemoteCallLedger(session, callTimeout);
        var properties = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var notes = new List<string>();
        Span<byte> scratch = stackalloc byte[ScratchBytes];
        foreach (string name in s_properties)
        {
            scratch.Clear();
            RemoteScratch.WriteName(scratch, NameSlot, name);
            RemoteCallResult r = ledger.Call(_getNumericProperty, [RemoteArg.Scratch(NameSlot), RemoteArg.Scratch(ValueSlot)], scratch);
            if ((int)r.ReturnValue == 0)
            {
                notes.Add($"{name} is not known to this tcmalloc");
                continue;
            }

            properties[name] = BinaryPrimitives.ReadUInt64LittleEndian(scratch[ValueSlot..]);
        }

        ulong? inUse = Get("generic.current_allocated_bytes");
        ulong? pageheapFree = Get("tcmalloc.pageheap_free_bytes");
        ulong? free = null;
        if (pageheapFree is { } p && Get("tcmalloc.thread_cache_free_bytes") is { } t && Get("tcmalloc.central_cache_free_bytes") is { } c
            && Get("tcmalloc.transfer_cache_free_bytes") is { } x)
        {
            free = p + t + c + x;
        }

        ulong? system = Get("generic.heap_size") is { } heap && Get("tcmalloc.pageheap_unmapped_bytes") is { } unmapped && heap >= unmapped ? heap - unmapped : null;
        notes.Add("releasable is the page heap's free bytes: ReleaseFreeMemory does not empty thread, central or transfer caches");
        return new AllocatorStatistics(Allocator, inUse, free, pageheapFree, system, null, [], properties,
            ledger.PauseMicrosecondsMax, ledger.PauseMicrosecondsTotal, ledger.Calls, notes);

        ulong? Get(string key) => properties.TryGetValue(key, out ulong v) ? v : null;
    }

    public ReleaseResult Release(IRemoteCallSession session, TimeSpan callTimeout)
    {
        RemoteCallResult r = session.Call(_releaseFreeMemory, [], [], callTimeout);
        return new ReleaseResult(Allocator, ReleaseOutcome.Requested,
            "MallocExtension_ReleaseFreeMemory returned the page heap's free spans; it does not say how much", null, r.PauseMicroseconds, r.CalleeMicroseconds);
    }
}

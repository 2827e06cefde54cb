using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Injection;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// jemalloc through <c>mallctl</c> (jemalloc(3) "MALLCTL NAMESPACE"): an <c>epoch</c> write refreshes the statistics,
/// then <c>stats.*</c>, <c>arenas.narenas</c> and a few <c>opt.*</c> are read; release is <c>arena.4096.purge</c>
/// (MALLCTL_ARENAS_ALL). Statically linked builds export the prefixed <c>je_mallctl</c>.
/// </summary>
internal sealed class JemallocIntrospector : IAllocatorIntrospector
{
    private const int ScratchBytes = 64;
    private const int ValueSlot = 0;
    private const int LengthSlot = 8;
    private const int NameSlot = 16;

    // name, value width in bytes (size_t, unsigned, bool, ssize_t).
    private static readonly (string Name, int Width)[] s_properties =
    [
        ("stats.allocated", 8), ("stats.active", 8), ("stats.metadata", 8), ("stats.resident", 8), ("stats.mapped", 8),
        ("stats.retained", 8), ("arenas.narenas", 4), ("opt.narenas", 4), ("opt.dirty_decay_ms", 8), ("opt.muzzy_decay_ms", 8),
        ("opt.retain", 1), ("opt.background_thread", 1), ("opt.tcache_max", 8),
    ];

    private readonly ulong _mallctl;

    internal JemallocIntrospector(ulong mallctl, IReadOnlyList<(ulong Start, ulong End)> codeRanges)
    {
        _mallctl = mallctl;
        UnsafeCodeRanges = codeRanges;
    }

    public string Allocator => "jemalloc";

    public bool IsSupported => true;

    public string? NotSupportedReason => null;

    public IReadOnlyList<(ulong Start, ulong End)> UnsafeCodeRanges { get; }

    public static bool TryCreate(TargetSymbols symbols, [NotNullWhen(true)] out JemallocIntrospector? introspector)
    {
        introspector = null;
        if (symbols.TryResolveExport("mallctl", out TargetSymbolAddress mallctl) || symbols.TryResolveExport("je_mallctl", out mallctl)
            || (symbols.Modules.Count > 0 && TargetSymbols.TryResolve(symbols.Modules[0], "je_mallctl", out mallctl, useDebugFile: false)))
        {
            TargetModule m = mallctl.Module;
            IReadOnlyList<(ulong, ulong)> ranges = m.FileName.StartsWith("libjemalloc", StringComparison.Ordinal)
                ? m.ExecutableRanges
                : TargetSymbols.FunctionRanges(m, n => n.StartsWith("je_", StringComparison.Ordinal) || n is "mallctl" or "malloc" or "free" or "calloc" or "realloc");
            introspector = new JemallocIntrospector(mallctl.Address, ranges);
            return true;
        }

        return false;
    }

    public AllocatorStatistics ReadStatistics(IRemoteCallSession session, TimeSpan callTimeout)
    {
        var ledger = new RemoteCallLedger(session, callTimeout);
        var properties = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var notes = new List<string>();
        Span<byte> scratch = stackalloc byte[ScratchBytes];

        // mallctl("epoch", &e, &len, &e, sizeof e): stats are cached until the epoch advances.
        scratch.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(scratch[ValueSlot..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(scratch[LengthSlot..], 8);
        RemoteScratch.WriteName(scratch, NameSlot, "epoch");
        RemoteCallResult epoch = ledger.Call(_mallctl,
            [RemoteArg.Scratch(NameSlot), RemoteArg.Scratch(ValueSlot), RemoteArg.Scratch(LengthSlot), RemoteArg.Scratch(ValueSlot), RemoteArg.Int(8UL)], scratch);
        if ((int)epoch.ReturnValue != 0)
        {
            notes.Add($"mallctl(\"epoch\") returned {(int)epoch.ReturnValue}: statistics may be stale");
        }

        foreach ((string name, int width) in s_properties)
        {
            scratch.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(scratch[LengthSlot..], (ulong)width);
            RemoteScratch.WriteName(scratch, NameSlot, name);
            RemoteCallResult r = ledger.Call(_mallctl,
                [RemoteArg.Scratch(NameSlot), RemoteArg.Scratch(ValueSlot), RemoteArg.Scratch(LengthSlot), RemoteArg.Int(0UL), RemoteArg.Int(0UL)], scratch);
            if ((int)r.ReturnValue != 0)
            {
                // ENOENT for a name this build lacks (e.g. stats disabled): leave it out rather than guess.
                notes.Add($"mallctl(\"{name}\") returned {(int)r.ReturnValue}");
                continue;
            }

            properties[name] = width switch
            {
                1 => scratch[ValueSlot],
                4 => BinaryPrimitives.ReadUInt32LittleEndian(scratch[ValueSlot..]),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(scratch[ValueSlot..]),
            };
        }

        ulong? allocated = Get("stats.allocated"), active = Get("stats.active"), resident = Get("stats.resident"), metadata = Get("stats.metadata");
        ulong? free = null, releasable = null;
        if (allocated is { } a && resident is { } res && metadata is { } meta && active is { } act)
        {
            // stats.resident = metadata + active + unused dirty pages (jemalloc(3)); purging returns the dirty part.
            free = res >= meta + a ? res - meta - a : 0;
            releasable = res >= meta + act ? res - meta - act : 0;
        }

        int? arenas = Get("arenas.narenas") is { } n ? (int)n : null;
        return new AllocatorStatistics(Allocator, allocated, free, releasable, Get("stats.mapped"), arenas, [], properties,
            ledger.PauseMicrosecondsMax, ledger.PauseMicrosecondsTotal, ledger.Calls, notes);

        ulong? Get(string key) => properties.TryGetValue(key, out ulong v) ? v : null;
    }

    public ReleaseResult Release(IRemoteCallSession session, TimeSpan callTimeout)
    {
        Span<byte> scratch = stackalloc byte[ScratchBytes];
        scratch.Clear();
        RemoteScratch.WriteName(scratch, NameSlot, "arena.4096.purge");
        RemoteCallResult r = session.Call(_mallctl,
            [RemoteArg.Scratch(NameSlot), RemoteArg.Int(0UL), RemoteArg.Int(0UL), RemoteArg.Int(0UL), RemoteArg.Int(0UL)], scratch, callTimeout);
        int rc = (int)r.ReturnValue;
        return rc == 0
            ? new ReleaseResult(Allocator, ReleaseOutcome.Requested, "mallctl(\"arena.4096.purge\") purged the unused dirty pages of all arenas; it does not say how much", r.ReturnValue, r.PauseMicroseconds, r.CalleeMicroseconds)
            : new ReleaseResult(Allocator, ReleaseOutcome.Failed, $"mallctl(\"arena.4096.purge\") returned error {rc}", r.ReturnValue, r.PauseMicroseconds, r.CalleeMicroseconds);
    }
}

using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Allocators;

/// <summary>Picks the introspector for a target from the symbols mapped in it.</summary>
public static class AllocatorIntrospectors
{
    /// <summary>
    /// jemalloc (<c>mallctl</c>/<c>je_mallctl</c>), then gperftools tcmalloc (<c>MallocExtension_GetNumericProperty</c>),
    /// then glibc when no other loaded object exports <c>malloc</c>. Anything else (google/tcmalloc, musl, an allocator linked
    /// statically without symbols, an unknown malloc) gets an introspector whose <see cref="IAllocatorIntrospector.IsSupported"/>
    /// is false and that says why.
    /// </summary>
    public static IAllocatorIntrospector ForTarget(TargetSymbols symbols)
    {
        if (JemallocIntrospector.TryCreate(symbols, out JemallocIntrospector? jemalloc))
        {
            return jemalloc;
        }

        if (GperftoolsIntrospector.TryCreate(symbols, out GperftoolsIntrospector? gperftools))
        {
            return gperftools;
        }

        if (symbols.TryResolveExport("MallocExtension_Internal_GetNumericProperty", out _))
        {
            return new UnsupportedAllocatorIntrospector("tcmalloc (google)",
                "google/tcmalloc has only a C++ API; its MallocExtension_Internal_* hooks are internal and take C++ types");
        }

        if (symbols.FindModule("ld-musl") is not null || symbols.FindModule("libc.musl") is not null)
        {
            return new UnsupportedAllocatorIntrospector("musl", "musl's malloc has no statistics or trim interface (no mallinfo2, malloc_info or malloc_trim)");
        }

        foreach (TargetModule m in symbols.Modules)
        {
            if (!m.FileName.StartsWith("libc.so", StringComparison.Ordinal) && !m.FileName.StartsWith("ld-linux", StringComparison.Ordinal)
                && m.Elf.TryFindDynamicSymbol("malloc", out ElfSymbol malloc) && malloc.Type == ElfSymbolType.Function)
            {
                return new UnsupportedAllocatorIntrospector("unknown",
                    $"malloc is provided by {m.Path}, an allocator MemWatch does not know; glibc's figures would not describe it");
            }
        }

        if (GlibcIntrospector.TryCreate(symbols, out GlibcIntrospector? glibc, out string? reason))
        {
            return glibc;
        }

        return new UnsupportedAllocatorIntrospector("unknown", reason + "; no jemalloc or gperftools tcmalloc symbols either (a statically linked allocator without exported symbols cannot be asked)");
    }
}

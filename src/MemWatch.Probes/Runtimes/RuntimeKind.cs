namespace MemWatch.Probes.Runtimes;

/// <summary>A language runtime that manages its own heap on top of (or beside) malloc.</summary>
public enum RuntimeKind
{
    None,

    /// <summary>CPython: pymalloc arenas (1 MiB mmaps) for objects up to 512 bytes, malloc above.</summary>
    CPython,

    /// <summary>Node.js / V8: a garbage-collected heap of spaces in mmapped pages.</summary>
    Node,

    /// <summary>HotSpot JVM: a garbage-collected heap of generations reserved up front (-Xmx).</summary>
    Jvm,

    /// <summary>Go: a garbage-collected heap in arenas at 0xc000000000, pages returned with madvise.</summary>
    Go,
}

namespace MemWatch.Probes.Analysis;

/// <summary>A memory quantity that <see cref="SampleWindow"/> keeps per sample and whose trend can be estimated.</summary>
public enum MemorySeries
{
    /// <summary>VmRSS of <c>/proc/[pid]/status</c>.</summary>
    Rss,

    /// <summary>RssAnon of <c>/proc/[pid]/status</c>.</summary>
    Anon,

    /// <summary>RssFile of <c>/proc/[pid]/status</c>.</summary>
    File,

    /// <summary>RssShmem of <c>/proc/[pid]/status</c>.</summary>
    Shmem,

    /// <summary>VmSwap of <c>/proc/[pid]/status</c>.</summary>
    Swap,

    /// <summary>Bytes the allocator reports as allocated by the application (introspection only).</summary>
    AllocatorInUse,

    /// <summary>Bytes the allocator holds free (introspection only).</summary>
    AllocatorFree,
}

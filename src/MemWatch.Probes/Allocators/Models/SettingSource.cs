namespace MemWatch.Probes.Allocators.Models;

/// <summary>Where an effective allocator setting came from.</summary>
public enum SettingSource
{
    /// <summary>The allocator's built-in default.</summary>
    Default,

    /// <summary>A <c>glibc.malloc.*</c> entry of <c>GLIBC_TUNABLES</c>.</summary>
    GlibcTunables,

    /// <summary>A legacy glibc variable such as <c>MALLOC_ARENA_MAX</c>.</summary>
    LegacyEnvironment,

    /// <summary>The target of the <c>/etc/malloc.conf</c> symbolic link (jemalloc).</summary>
    EtcMallocConf,

    /// <summary>The <c>MALLOC_CONF</c> variable (jemalloc).</summary>
    MallocConf,

    /// <summary>A <c>TCMALLOC_*</c> variable.</summary>
    Environment,
}

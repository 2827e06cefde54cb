namespace MemWatch.Probes.Files;

/// <summary>The process's umask(2): what every file it creates (SQLite's database and journals, log files) is denied.</summary>
public static class FileCreationMask
{
    /// <summary>Sets the mask; returns the previous one.</summary>
    public static uint Set(uint mask) => Interop.Libc.Umask(mask);
}

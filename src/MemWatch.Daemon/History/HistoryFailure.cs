namespace MemWatch.Daemon.History;

/// <summary>Why the history database could not be used.</summary>
internal enum HistoryFailure
{
    /// <summary>Not a database, or a page failed SQLite's checks: move it aside and start fresh.</summary>
    Corrupt,

    /// <summary>Another memwatch daemon holds the writer lock, or SQLite stayed busy past its timeout.</summary>
    Locked,

    /// <summary>Written by a newer memwatch (schema version above what this one knows).</summary>
    NewerSchema,

    /// <summary>No database file (a reader opened a state directory the daemon never wrote).</summary>
    Missing,

    /// <summary>Anything else the file system or SQLite refused (permissions, disk full, I/O error).</summary>
    Unavailable,
}

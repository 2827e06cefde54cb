namespace MemWatch.Daemon.History;

/// <summary>The history database could not be opened or used; <see cref="Failure"/> says why, the message says where.</summary>
internal sealed class HistoryStoreException(HistoryFailure failure, string path, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public HistoryFailure Failure { get; } = failure;

    /// <summary>The database file concerned.</summary>
    public string DatabasePath { get; } = path;
}

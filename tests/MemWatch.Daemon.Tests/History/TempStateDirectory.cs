namespace MemWatch.Daemon.Tests.History;

/// <summary>A fresh state directory under /tmp, deleted with everything in it on dispose.</summary>
public sealed class TempStateDirectory : IDisposable
{
    public TempStateDirectory()
    {
        Path = Directory.CreateTempSubdirectory("memwatch-history-").FullName;
    }

    public string Path { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, MemWatch.Daemon.History.HistoryStore.FileName);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

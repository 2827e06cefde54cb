namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>The deploy/ tree as copied beside the tests (see the test project), and scratch directories for tools.</summary>
public static class DeployTree
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "deploy");

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string ReadAllText(params string[] parts) => System.IO.File.ReadAllText(File(parts));
}

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("memwatch-deploy-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

namespace MemWatch.Probes.Files;

/// <summary>
/// A file a target controls was refused before anything was read from it or sent to it: a symbolic link, a path
/// leading out of the target's root, a file of the wrong type, owner or size. The message is one line naming the path
/// and the reason.
/// </summary>
public sealed class UnsafeFileException : IOException
{
    public UnsafeFileException(string path, string reason)
        : base($"{path}: refused: {reason}")
    {
        Path = path;
        Reason = reason;
    }

    public string Path { get; }

    public string Reason { get; }
}

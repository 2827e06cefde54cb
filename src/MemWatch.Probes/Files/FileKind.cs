namespace MemWatch.Probes.Files;

/// <summary>The file type bits of st_mode.</summary>
public enum FileKind
{
    Other,
    Regular,
    Directory,
    Socket,
    Fifo,
    CharacterDevice,
    BlockDevice,
    SymbolicLink,
}

namespace MemWatch.Probes.Files;

/// <summary>The user this process acts as on files.</summary>
public static class FileOwner
{
    /// <summary>This process's effective uid (geteuid(2)): the owner of the files it creates, checked against files it trusts.</summary>
    public static uint Current => Interop.Libc.Geteuid();
}

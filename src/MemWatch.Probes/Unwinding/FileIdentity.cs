namespace MemWatch.Probes.Unwinding;

/// <summary>
/// What makes two opened files the same object for the unwinder's cache: the build-id read from the file's own bytes
/// and fstat's device, inode, size and mtime of the very file descriptor that was read. A path is never part of it:
/// the same path names different files in different mount namespaces.
/// </summary>
public readonly record struct FileIdentity(string? BuildId, ulong Device, ulong Inode, long Size, long ModifiedNs)
{
    public override string ToString() => $"build-id {BuildId ?? "none"}, dev {Device:x}, inode {Inode}, {Size} bytes";
}

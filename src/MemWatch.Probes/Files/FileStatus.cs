namespace MemWatch.Probes.Files;

/// <summary>What <c>statx(2)</c> says of an open descriptor: the checks of <see cref="ProcessRoot"/> are made on it.</summary>
public readonly record struct FileStatus(FileKind Kind, uint Mode, uint Uid, uint Gid, ulong SizeBytes, ulong AllocatedBytes, ulong Inode, ulong Device)
{
    /// <summary>Permission bits (the low 12 bits of st_mode).</summary>
    public uint Permissions => Mode & 0xFFF;

    /// <summary>st_dev as glibc encodes dev_t (makedev), the number systemd writes in <c>JOURNAL_STREAM</c>.</summary>
    public ulong DeviceNumber
    {
        get
        {
            ulong major = Device >> 32, minor = Device & 0xFFFFFFFF;
            return ((major & 0xFFFFF000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFFFF00) << 12) | (minor & 0xFF);
        }
    }
}

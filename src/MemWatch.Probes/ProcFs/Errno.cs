namespace MemWatch.Probes.ProcFs;

/// <summary>Linux errno values that the readers distinguish (asm-generic/errno-base.h).</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EACCES = 13;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
}

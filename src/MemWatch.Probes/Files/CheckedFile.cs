using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.Files;

/// <summary>
/// Opens files MemWatch does not trust without blocking (<c>O_NONBLOCK</c>: a FIFO put where a library was expected
/// would otherwise hang the open until a writer came), without taking a controlling terminal, and checks with
/// <c>statx(2)</c> on the open descriptor, never on the path, that it is what the caller expects.
/// </summary>
public static class CheckedFile
{
    /// <summary>Flags of every read-only open of an untrusted file.</summary>
    internal const int ReadFlags = Interop.Libc.O_RDONLY | Interop.Libc.O_NONBLOCK | Interop.Libc.O_CLOEXEC | Interop.Libc.O_NOCTTY;

    /// <summary>
    /// Opens <paramref name="path"/> following its links (as <c>/proc/PID/map_files/…</c> and a Kubernetes secret's
    /// <c>..data</c> link need) and requires a regular file of at most <paramref name="maxBytes"/>.
    /// </summary>
    /// <exception cref="UnsafeFileException">Not a regular file, too large, or mostly holes.</exception>
    /// <exception cref="FileNotFoundException">The file (or its process) is gone.</exception>
    /// <exception cref="UnauthorizedAccessException">EACCES or EPERM.</exception>
    public static SafeFileHandle OpenRegular(string path, long maxBytes)
    {
        int fd = Interop.Libc.Open(path, ReadFlags);
        if (fd < 0)
        {
            throw ErrorFor(Marshal.GetLastPInvokeError(), path);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            RequireRegular(Stat(handle, path), path, maxBytes);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary><c>statx(2)</c> of an open descriptor.</summary>
    public static FileStatus Stat(SafeFileHandle handle, string path)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Interop.Libc.FStatx((int)handle.DangerousGetHandle(), out Interop.Libc.Statx st) != 0)
            {
                throw ErrorFor(Marshal.GetLastPInvokeError(), path);
            }

            FileKind kind = (st.stx_mode & Interop.Libc.S_IFMT) switch
            {
                Interop.Libc.S_IFREG => FileKind.Regular,
                Interop.Libc.S_IFDIR => FileKind.Directory,
                Interop.Libc.S_IFSOCK => FileKind.Socket,
                Interop.Libc.S_IFIFO => FileKind.Fifo,
                Interop.Libc.S_IFCHR => FileKind.CharacterDevice,
                Interop.Libc.S_IFBLK => FileKind.BlockDevice,
                Interop.Libc.S_IFLNK => FileKind.SymbolicLink,
                _ => FileKind.Other,
            };
            return new FileStatus(kind, st.stx_mode, st.stx_uid, st.stx_gid, st.stx_size, st.stx_blocks * 512, st.stx_ino,
                ((ulong)st.stx_dev_major << 32) | st.stx_dev_minor);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Requires a regular file of at most <paramref name="maxBytes"/> whose blocks are mostly allocated: a sparse file
    /// claims a size it does not hold and would make a parser allocate for sections made of holes.
    /// </summary>
    public static void RequireRegular(FileStatus status, string path, long maxBytes)
    {
        if (status.Kind != FileKind.Regular)
        {
            throw new UnsafeFileException(path, $"a {Describe(status.Kind)}, not a regular file");
        }

        if (status.SizeBytes > (ulong)maxBytes)
        {
            throw new UnsafeFileException(path, $"{status.SizeBytes} bytes, more than the {maxBytes} allowed");
        }

        // Allocation is counted in 512-byte blocks and filesystems round up, so only a file mostly made of holes is refused.
        if (status.SizeBytes > 1024 * 1024 && status.AllocatedBytes < status.SizeBytes / 4)
        {
            throw new UnsafeFileException(path, $"sparse: {status.SizeBytes} bytes long but only {status.AllocatedBytes} allocated");
        }
    }

    /// <summary>A path that reaches the open descriptor itself (<c>/proc/self/fd/N</c>), for APIs that take only paths.</summary>
    public static string DescriptorPath(SafeFileHandle handle) => $"/proc/self/fd/{handle.DangerousGetHandle()}";

    internal static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "regular file",
        FileKind.Directory => "directory",
        FileKind.Socket => "socket",
        FileKind.Fifo => "FIFO",
        FileKind.CharacterDevice => "character device",
        FileKind.BlockDevice => "block device",
        FileKind.SymbolicLink => "symbolic link",
        _ => "special file",
    };

    internal static Exception ErrorFor(int errno, string path) => errno switch
    {
        Interop.Libc.ENOENT or Interop.Libc.ESRCH => new FileNotFoundException($"{path}: no such file", path),
        Interop.Libc.ENOTDIR => new DirectoryNotFoundException($"{path}: a component is not a directory"),
        Interop.Libc.EACCES or Interop.Libc.EPERM => new UnauthorizedAccessException($"{path}: permission denied"),
        Interop.Libc.ELOOP => new UnsafeFileException(path, "the path goes through a symbolic link"),
        Interop.Libc.EXDEV => new UnsafeFileException(path, "the path leads out of the process's root"),
        Interop.Libc.ENOSYS => new UnsafeFileException(path, "openat2(2) is unavailable (Linux before 5.6): paths inside containers cannot be opened safely"),
        _ => new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno),
    };
}

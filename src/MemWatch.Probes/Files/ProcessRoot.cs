using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.Files;

/// <summary>
/// A process's root directory (<c>/proc/PID/root</c>) held open, and paths opened beneath it as the process itself
/// would see them but never out of it: <c>openat2(2)</c> with <c>RESOLVE_IN_ROOT</c> (absolute paths and <c>..</c>
/// stay inside), <c>RESOLVE_NO_MAGICLINKS</c> (no <c>/proc/…/root</c> or <c>/proc/…/fd</c> jumps to the host) and
/// <c>RESOLVE_NO_SYMLINKS</c> (no symbolic link at all, so a link a process planted cannot redirect a root-privileged
/// open), then <c>statx(2)</c> on the descriptor.
/// </summary>
/// <remarks>
/// Everything under a target's root is the target's to change while MemWatch looks: the checks are made on the
/// descriptor that is then used (read, or connected to through <see cref="CheckedFile.DescriptorPath"/>), so nothing
/// can be swapped between the check and the use. A legitimate path through a symbolic link (a TMPDIR that is a link)
/// is refused too; the refusal names it.
/// </remarks>
public sealed class ProcessRoot : IDisposable
{
    private const ulong Resolve = Interop.Libc.RESOLVE_IN_ROOT | Interop.Libc.RESOLVE_NO_MAGICLINKS | Interop.Libc.RESOLVE_NO_SYMLINKS;

    private readonly SafeFileHandle _root;

    private ProcessRoot(SafeFileHandle root, string path)
    {
        _root = root;
        Path = path;
    }

    /// <summary>The root as opened, e.g. <c>/proc/42/root</c>; paths in messages are given under it.</summary>
    public string Path { get; }

    /// <summary>Opens <paramref name="rootPath"/> (<c>/proc/PID/root</c>: the kernel's link to the process's root is followed, as intended).</summary>
    /// <exception cref="FileNotFoundException">The process is gone.</exception>
    /// <exception cref="UnauthorizedAccessException">No ptrace access to the process.</exception>
    public static ProcessRoot Open(string rootPath)
    {
        int fd = Interop.Libc.Open(rootPath, Interop.Libc.O_PATH | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw CheckedFile.ErrorFor(Marshal.GetLastPInvokeError(), rootPath);
        }

        return new ProcessRoot(new SafeFileHandle(fd, ownsHandle: true), rootPath);
    }

    /// <summary>A regular file of at most <paramref name="maxBytes"/>, opened for reading.</summary>
    /// <exception cref="UnsafeFileException">A symbolic link on the way, not a regular file, too large or sparse.</exception>
    public SafeFileHandle OpenRegularFile(string path, long maxBytes)
    {
        string shown = Shown(path);
        SafeFileHandle handle = OpenAt(path, CheckedFile.ReadFlags | Interop.Libc.O_NOFOLLOW, shown);
        try
        {
            CheckedFile.RequireRegular(CheckedFile.Stat(handle, shown), shown, maxBytes);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A directory, opened for listing (through <see cref="CheckedFile.DescriptorPath"/>) and as the base of
    /// a listing of its names.
    /// </summary>
    public SafeFileHandle OpenDirectory(string path)
    {
        string shown = Shown(path);
        SafeFileHandle handle = OpenAt(path, CheckedFile.ReadFlags | Interop.Libc.O_DIRECTORY | Interop.Libc.O_NOFOLLOW, shown);
        try
        {
            FileStatus status = CheckedFile.Stat(handle, shown);
            if (status.Kind != FileKind.Directory)
            {
                throw new UnsafeFileException(shown, $"a {CheckedFile.Describe(status.Kind)}, not a directory");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A Unix socket owned by one of <paramref name="ownerUids"/> (the process's uids), opened as <c>O_PATH</c>: connect
    /// to <see cref="CheckedFile.DescriptorPath"/> of the result, which reaches this very inode.
    /// </summary>
    /// <exception cref="UnsafeFileException">A symbolic link on the way, not a socket, or owned by another user.</exception>
    public SafeFileHandle OpenSocket(string path, params ReadOnlySpan<uint> ownerUids)
    {
        string shown = Shown(path);
        SafeFileHandle handle = OpenAt(path, Interop.Libc.O_PATH | Interop.Libc.O_NOFOLLOW | Interop.Libc.O_CLOEXEC, shown);
        try
        {
            RequireSocket(CheckedFile.Stat(handle, shown), shown, ownerUids);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose() => _root.Dispose();

    internal static void RequireSocket(FileStatus status, string shown, ReadOnlySpan<uint> ownerUids)
    {
        if (status.Kind != FileKind.Socket)
        {
            throw new UnsafeFileException(shown, $"a {CheckedFile.Describe(status.Kind)}, not a socket");
        }

        if (!ownerUids.Contains(status.Uid))
        {
            throw new UnsafeFileException(shown, $"owned by uid {status.Uid}, not by the process's user ({string.Join('/', ownerUids.ToArray())})");
        }
    }

    private string Shown(string path) => Path + (path.StartsWith('/') ? path : "/" + path);

    private SafeFileHandle OpenAt(string path, int flags, string shown)
    {
        bool added = false;
        try
        {
            _root.DangerousAddRef(ref added);
            int fd = Interop.Libc.OpenAt2((int)_root.DangerousGetHandle(), path, (ulong)flags, Resolve);
            if (fd < 0)
            {
                throw CheckedFile.ErrorFor(Marshal.GetLastPInvokeError(), shown);
            }

            return new SafeFileHandle(fd, ownsHandle: true);
        }
        finally
        {
            if (added)
            {
                _root.DangerousRelease();
            }
        }
    }
}

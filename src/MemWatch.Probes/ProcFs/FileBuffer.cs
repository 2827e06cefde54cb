using System.Runtime.InteropServices;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// A reusable buffer that holds one whole kernel file. /proc files report a size of 0 or 4096 whatever
/// their length, so the file is read until end of file, growing the buffer as needed; a buffer that is
/// reused across samples makes steady-state reads allocation-free.
/// </summary>
/// <remarks>Not thread safe: one buffer per sampling thread.</remarks>
public sealed class FileBuffer
{
    private byte[] _data;
    private int _length;

    public FileBuffer(int initialCapacity = 16 * 1024)
    {
        _data = new byte[Math.Max(initialCapacity, 256)];
    }

    /// <summary>The bytes of the file last loaded.</summary>
    public ReadOnlySpan<byte> Span => _data.AsSpan(0, _length);

    /// <summary>Largest file this buffer will hold; larger files throw <see cref="ProcParseException"/>.</summary>
    public int MaxBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Reads the whole file at <paramref name="path"/>. Returns false when the file or its process is gone
    /// (ENOENT, ESRCH): for a /proc/PID path that means the process exited, a normal event.
    /// Throws <see cref="UnauthorizedAccessException"/> on EACCES/EPERM, <see cref="IOException"/> (HResult = errno)
    /// on any other error.
    /// </summary>
    public bool TryLoad(string path) => Load(path, singleShow: false);

    /// <summary>
    /// <see cref="TryLoad"/> for a file the kernel generates in one piece (a <c>single_open</c> seq_file such as
    /// status, stat, statm, smaps_rollup): such a file comes whole in the first read when the buffer is larger, so
    /// a read that returns less than asked for is the end and the read that would return 0 is skipped. Multi-record
    /// files (maps, smaps) return about a page per read whatever the buffer: use <see cref="TryLoad"/> for those.
    /// </summary>
    public bool TryLoadSingleShow(string path) => Load(path, singleShow: true);

    /// <summary>
    /// Reads <paramref name="file"/> again from its start: the kernel generates it afresh. Returns false when the
    /// process it belongs to has exited (ESRCH), even if its PID now belongs to another process. Throws as
    /// <see cref="TryLoad"/> does.
    /// </summary>
    public bool TryReload(ProcFile file)
    {
        bool added = false;
        try
        {
            file.Handle.DangerousAddRef(ref added);
            return Read((int)file.Handle.DangerousGetHandle(), file.Path, file.SingleShow, positional: true);
        }
        catch (ObjectDisposedException)
        {
            _length = 0;
            return false;
        }
        finally
        {
            if (added)
            {
                file.Handle.DangerousRelease();
            }
        }
    }

    private bool Load(string path, bool singleShow)
    {
        _length = 0;
        int fd = OpenReadOnly(path, out int errno);
        if (fd < 0)
        {
            return IsGoneErrno(errno) ? false : throw ErrorFor(errno, path);
        }

        try
        {
            return Read(fd, path, singleShow, positional: false);
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }

    /// <summary>open(2) for reading, retried on EINTR: the descriptor, or -1 and the errno.</summary>
    internal static int OpenReadOnly(string path, out int errno)
    {
        int fd;
        while ((fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC)) < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.Libc.EINTR)
            {
                return -1;
            }
        }

        errno = 0;
        return fd;
    }

    // positional: pread from offset 0 on, for a held file; otherwise read on a descriptor just opened.
    private unsafe bool Read(int fd, string path, bool singleShow, bool positional)
    {
        _length = 0;
        while (true)
        {
            if (_length == _data.Length)
            {
                if (_data.Length >= MaxBytes)
                {
                    throw new ProcParseException(path, 0, $"file is larger than the {MaxBytes} byte limit");
                }

                Array.Resize(ref _data, (int)Math.Min((long)_data.Length * 2, MaxBytes));
            }

            int room = _data.Length - _length;
            nint n;
            fixed (byte* p = &_data[_length])
            {
                n = positional ? Interop.Libc.PRead(fd, p, room, _length) : Interop.Libc.Read(fd, p, room);
            }

            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Libc.EINTR)
                {
                    continue;
                }

                _length = 0;
                return IsGoneErrno(errno) ? false : throw ErrorFor(errno, path);
            }

            _length += (int)n;
            if (n == 0 || (singleShow && n < room))
            {
                return true;
            }
        }
    }

    private static bool IsGoneErrno(int errno) => errno is Errno.ENOENT or Errno.ESRCH;

    internal static Exception ErrorFor(int errno, string path) => errno is Errno.EACCES or Errno.EPERM
        ? new UnauthorizedAccessException($"Access to the path '{path}' is denied.")
        : new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);

    /// <summary>ENOENT or ESRCH: the file, or the process behind a /proc/PID path, no longer exists.</summary>
    internal static bool IsGone(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => true,
        IOException io => io.HResult is Errno.ENOENT or Errno.ESRCH,
        _ => false,
    };
}
